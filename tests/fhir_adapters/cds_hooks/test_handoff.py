"""The supervisor's balancer hands each connection to the ready worker with the fewest open,
passes over a worker that is gone, and keeps connections waiting while no worker is ready.
The test plays the workers' side of the control sockets."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator

import pytest

from fhir_adapters.cds_hooks import handoff

pytestmark = pytest.mark.skipif(not handoff.supported(), reason="needs SCM_RIGHTS (Unix)")


@pytest.fixture
def listener() -> Iterator[socket.socket]:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    yield sock
    sock.close()


OPENED: list[socket.socket] = []


@pytest.fixture(autouse=True)
def close_sockets() -> Iterator[None]:
    yield
    while OPENED:
        OPENED.pop().close()


@pytest.fixture
def balancer() -> Iterator[handoff.Balancer]:
    running = handoff.Balancer()
    yield running
    running.close()


def worker(balancer: handoff.Balancer, ready: bool = True) -> socket.socket:
    """A worker's end of a new control socket, `ready` announced."""
    mine, theirs = handoff.control_pair()
    OPENED.append(theirs)
    balancer.add(mine)
    if ready:
        theirs.sendall(b"ready\n")
    return theirs


def wait_for(condition: object, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def received(end: socket.socket, timeout: float = 0.3) -> list[socket.socket]:
    """The connections handed to a worker end so far."""
    end.settimeout(timeout)
    out = []
    try:
        while True:
            _, fds, _, _ = socket.recv_fds(end, 1, 1)
            out += [socket.socket(fileno=fd) for fd in fds]
    except (TimeoutError, BlockingIOError):
        OPENED.extend(out)
        return out


def ready_workers(balancer: handoff.Balancer, listener: socket.socket) -> list[socket.socket]:
    """Two ready workers' ends, the balancer handing out `listener`'s connections."""
    ends = [worker(balancer), worker(balancer)]
    wait_for(lambda: balancer.ready() == 2)
    balancer.listen(listener)
    return ends


def connect(listener: socket.socket, count: int) -> list[socket.socket]:
    clients = [socket.create_connection(listener.getsockname(), timeout=5) for _ in range(count)]
    OPENED.extend(clients)
    return clients


def test_connections_are_split_evenly_between_ready_workers(
    listener: socket.socket, balancer: handoff.Balancer
) -> None:
    ends = ready_workers(balancer, listener)
    clients = connect(listener, 10)
    got = [received(end) for end in ends]
    assert sorted(len(g) for g in got) == [5, 5]
    # a handed connection is the client's: what the client writes, the worker reads
    clients[0].sendall(b"ping")
    readable = [c for g in got for c in g if c.getpeername() == clients[0].getsockname()]
    assert readable[0].recv(4) == b"ping"


def test_a_worker_reporting_fewer_open_connections_gets_the_next(
    listener: socket.socket, balancer: handoff.Balancer
) -> None:
    busy, idle = ready_workers(balancer, listener)
    connect(listener, 4)
    assert [len(received(busy)), len(received(idle))] == [2, 2]
    idle.sendall(b"0\n")  # its two connections have closed
    wait_for(lambda: sorted(balancer.open_connections()) == [0, 2])
    connect(listener, 2)
    assert [len(received(busy)), len(received(idle))] == [0, 2]


def test_connections_wait_until_a_worker_is_ready(
    listener: socket.socket, balancer: handoff.Balancer
) -> None:
    late = worker(balancer, ready=False)
    balancer.listen(listener)
    connect(listener, 2)
    assert received(late) == []
    late.sendall(b"ready\n")
    assert len(received(late)) == 2


def test_one_connection_at_a_time_goes_to_each_worker_in_turn(
    listener: socket.socket, balancer: handoff.Balancer
) -> None:
    ends = ready_workers(balancer, listener)
    order = []
    for _ in range(4):
        connect(listener, 1)
        (index,) = [n for n, end in enumerate(ends) if received(end, 0.1)]
        ends[index].sendall(b"0\n")  # served and closed
        wait_for(lambda: balancer.open_connections() == [0, 0])
        order.append(index)
    assert order in ([0, 1, 0, 1], [1, 0, 1, 0])


def test_a_worker_gone_is_passed_over(listener: socket.socket, balancer: handoff.Balancer) -> None:
    gone, alive = worker(balancer), worker(balancer)
    wait_for(lambda: balancer.ready() == 2)
    gone.close()
    wait_for(lambda: balancer.ready() == 1)
    balancer.listen(listener)
    connect(listener, 3)
    assert len(received(alive)) == 3
