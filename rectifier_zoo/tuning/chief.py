"""Distributed searches: the chief that serves the oracle, and the roles' environment.

A distributed KerasTuner search is one chief, which runs only the oracle, and
workers, which run trials and ask the chief for them over gRPC at ``HOST:PORT``.
KerasTuner learns its role from three environment variables (its documented
interface for distributed tuning, ``ENV_KEYS``); ``distributed_env`` sets them for
one search and restores them after, and ``serve`` is the chief's loop.
"""

from __future__ import annotations

import contextlib
import os
import time

from rectifier_zoo.errors import ConfigError, TuningError

ENV_KEYS = ("KERASTUNER_TUNER_ID", "KERASTUNER_ORACLE_IP", "KERASTUNER_ORACLE_PORT")


def parse_oracle(address):
    """``"HOST:PORT"`` -> ``(host, port)``, else ConfigError."""
    host, sep, port = str(address or "").rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ConfigError(f"oracle address must be HOST:PORT, e.g. 127.0.0.1:8000, got {address!r}")
    return host, int(port)


def check_role(chief, worker, oracle):
    """``(role, worker)`` of a search: ``"single"``, ``"chief"`` or ``"worker"``; ConfigError if they clash."""
    if chief and worker is not None:
        raise ConfigError("a search is either the chief or a worker; pass --chief or --worker ID, not both")
    if worker is not None:
        worker = str(worker)
        if not worker or "chief" in worker or not worker.replace("-", "").replace("_", "").isalnum():
            raise ConfigError(f"worker ID must be letters, digits, - or _ and not contain 'chief', got {worker!r}")
    role = "chief" if chief else "worker" if worker is not None else "single"
    if role != "single":
        parse_oracle(oracle)
    elif oracle is not None:
        raise ConfigError("--oracle is for distributed searches; add --chief or --worker ID")
    return role, worker


@contextlib.contextmanager
def distributed_env(role, worker=None, oracle=None):
    """Set KerasTuner's chief/worker environment variables for the block, then restore them."""
    saved = {k: os.environ.get(k) for k in ENV_KEYS}
    try:
        for key in ENV_KEYS:
            os.environ.pop(key, None)  # a stray variable must not turn a single search distributed
        if role != "single":
            host, port = parse_oracle(oracle)
            tuner_id = "chief" if role == "chief" else f"worker-{worker}"
            os.environ.update(KERASTUNER_TUNER_ID=tuner_id, KERASTUNER_ORACLE_IP=host, KERASTUNER_ORACLE_PORT=str(port))
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def serve(zoo_tuner, host, port, progress=True, poll=0.5):
    """Serve ``zoo_tuner``'s oracle to workers until the search is over.

    KerasTuner internals, on purpose: its public way to be the chief,
    ``Tuner.search()`` with ``KERASTUNER_TUNER_ID=chief``, calls
    ``oracle_chief.start_server``, which polls every 20 s once the last trial is
    handed out (the chief lingers that long after the search) and lets a port it
    cannot bind escape as grpc's bare ``RuntimeError``. So this loop builds the same
    server from the same pieces, ``oracle_chief.OracleServicer`` (its
    ``stop_triggered``), ``oracle_chief.exit_chief`` and ``protos``' servicer
    registration, and polls every ``poll`` seconds.
    ``tests/test_tuning.py::test_the_kerastuner_chief_pieces_we_build_on_are_there``
    fails if KerasTuner changes them.
    """
    from concurrent import futures

    # Only a chief needs grpc and the protos; KerasTuner too imports them late (protobuf version clashes).
    import grpc
    from keras_tuner.src import protos
    from keras_tuner.src.distribute import oracle_chief

    zoo_tuner.save()
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=1))
    servicer = oracle_chief.OracleServicer(zoo_tuner.oracle)
    protos.get_service_grpc().add_OracleServicer_to_server(servicer, server)
    try:
        bound = server.add_insecure_port(f"{host}:{port}")
    except RuntimeError:
        bound = 0
    if not bound:
        raise TuningError(f"the chief cannot listen on {host}:{port} (in use or not this machine's address); pick another --oracle")
    server.start()
    if progress:
        print(f"chief: oracle serving on {host}:{port}; start workers with --worker ID --oracle {host}:{port}", flush=True)
    try:
        while not (servicer.stop_triggered and oracle_chief.exit_chief(zoo_tuner.oracle)):
            time.sleep(poll)
    finally:
        server.stop(grace=1)
    zoo_tuner.save()
