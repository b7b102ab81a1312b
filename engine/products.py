"""A ruleset's product map: product codes (an RxNorm clinical drug, a dm+d VMP) and the
ingredient or class codes each stands for, read from a YAML mapping file such as

    rxnorm#198188: [rxnorm#35296]
    dmd#318906001: [atc#C09AA05]
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from .codes import Code, parse_code
from .errors import Problem
from .yaml_source import load_yaml

MAX_PRODUCTS_BYTES = 16 * 2**20

Products = dict[tuple[str, str], tuple[Code, ...]]


def read_products(path: Path, systems: Mapping[str, str]) -> tuple[Products, list[Problem]]:
    """The product map in `path`, and every problem found, each located in that file."""
    name = str(path)
    try:
        with path.open("rb") as file:
            raw = file.read(MAX_PRODUCTS_BYTES + 1)
        text = raw.decode("utf-8-sig")
    except OSError as error:
        return {}, [Problem(name, 0, 0, f"cannot read the products file: {error.strerror}")]
    except UnicodeDecodeError:
        return {}, [Problem(name, 1, 1, "the products file is not UTF-8 text")]
    if len(raw) > MAX_PRODUCTS_BYTES:
        return {}, [Problem(name, 0, 0, "the products file is larger than 16 MiB")]
    parsed, problems = load_yaml(text, name)
    if parsed is None:
        return {}, problems
    if not isinstance(parsed.data, dict):
        message = "products are a mapping of a product code to its ingredient or class codes"
        return {}, [parsed.problem((), message)]
    products: Products = {}
    for key, value in parsed.data.items():
        try:
            product = parse_code(str(key), systems)
        except ValueError as error:
            problems.append(parsed.problem((key,), str(error), at_key=True))
            continue
        items = value if isinstance(value, list) else None
        if not items:
            problems.append(
                parsed.problem((key,), f"{key}: list the ingredient or class codes it stands for")
            )
            continue
        codes = []
        for i, item in enumerate(items):
            try:
                codes.append(parse_code(str(item), systems))
            except ValueError as error:
                problems.append(parsed.problem((key, i), str(error)))
        products[product.key] = tuple(codes)
    return products, problems
