"""A small ruleset with a body-regions table, for the region, focal and side conditions."""

from __future__ import annotations

from datetime import UTC, datetime

NOW = datetime(2026, 7, 1, 12, tzinfo=UTC)

REGIONS = """\
id: regions
version: 1.0.0
status: draft
title: Body regions
regions:
  head: {}
  trunk: {}
  upper_limb: {sided: true, focal: true}
  lower_limb: {sided: true, focal: true}
sites:
  eyelid: {codes: [sct#80243003], region: head}
  trunk: {codes: [sct#22943007], region: trunk}
  upper_arm: {codes: [sct#40983000], region: upper_limb}
  hand: {codes: [sct#85562004], region: upper_limb}
  thigh: {codes: [sct#68367000], region: lower_limb}
  calf: {codes: [sct#53840002], region: lower_limb}
  left_lower_limb: {codes: [sct#32153003], region: lower_limb, side: left}
  right_lower_limb: {codes: [sct#62175007], region: lower_limb, side: right}
  ear: [sct#117590005]
concepts:
  fasciculation: {codes: [sct#82470000], lookback: 90 days}
  weakness: {codes: [sct#26544005], lookback: 365 days}
  leg_swelling: {codes: [sct#449754000, sct#65124004 at lower_limb], lookback: 90 days}
parameters:
  widespread_regions: 2
  acute_window: 14 days
levels:
  - {id: none, title: No action, indicator: info}
  - {id: urgent, title: Today, indicator: critical}
rules:
  - id: widespread
    when: fasciculation regions >= widespread_regions
    then: {derive: widespread}
  - id: one-region
    when: fasciculation regions = 1
    then: {derive: one-region}
  - id: focal
    when: weakness focal
    then: {derive: focal-weakness}
  - id: not-focal
    when: [weakness present, not weakness focal]
    then: {derive: weakness-not-focal}
  - id: one-sided
    when: leg_swelling one-sided within acute_window
    then:
      suggest: urgent
      summary: "Swelling of the {leg_swelling side} leg: possible deep vein thrombosis"
  - id: one-sided-swelling
    when: leg_swelling one-sided within acute_window
    then: {derive: one-sided-swelling}
  - id: both-sides
    when: leg_swelling on both sides within acute_window
    then: {derive: swelling-both-sides}
  - id: side-unknown
    when: leg_swelling side not recorded within acute_window
    then: {derive: swelling-side-unknown}
  - id: swelling
    when: leg_swelling present
    then: {derive: swelling}
"""
