"""`LocalStack`: the local system (backend, functions, HTTP API, stream pump) in one object."""

from __future__ import annotations

import atexit
import dataclasses
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TypeVar

from devstack import conflicts, faults, iam
from devstack.backend import AwsClients, Backend
from devstack.bootstrap import AdminBootstrap, admin_credentials
from devstack.deployment import Deployment, deploy
from devstack.destinations import FailureDestinations
from devstack.gateway import Gateway
from devstack.logs import ConsoleLog, LogSink
from devstack.mailbox import Mailbox
from devstack.pump import StreamPump
from devstack.queues import queue_pollers
from devstack.running import RunningStack, is_local
from devstack.runtime import (
    MAX_WORKERS_PER_FUNCTION,
    FunctionError,
    FunctionPool,
    InvokeResult,
    Runtime,
    function_environment,
)
from devstack.template import Template

DEFAULT_TEMPLATE = Path(__file__).resolve().parent.parent / "template.yaml"
DEFAULT_STACK_NAME = "eventshop-local"
READERS_PATH = "/_devstack/readers"
"""GET: each stream reader's oldest batch in flight (`StreamPump.in_flight`)."""
READER_FUNCTIONS = ("ProjectorFunction", "OrderProcessFunction", "OutsideCallsFunction")
"""The stream readers whose environment the running stack's file records."""
_Part = TypeVar("_Part")


def _ready(part: _Part | None, state: str) -> _Part:
    """`part` of the stack, or RuntimeError when the stack is not `state` (provisioned, started)."""
    if part is None:
        raise RuntimeError(f"the stack is not {state}")
    return part


class LocalStack:
    """The deployed system, locally. Use as a context manager, or `start()`/`stop()`.

    `env` is the environment the stack reads its own settings from (`AWS_ENDPOINT_URL`,
    `AWS_REGION`, `LOCAL_ADMIN_EMAIL`, ...); it defaults to `os.environ`.
    """

    def __init__(
        self,
        template: Path | str = DEFAULT_TEMPLATE,
        *,
        port: int = 0,
        host: str = "127.0.0.1",
        stack_name: str = DEFAULT_STACK_NAME,
        parameter_overrides: Mapping[str, str] | None = None,
        env: Mapping[str, str] | None = None,
        bootstrap: bool = True,
        prewarm: bool = False,
        max_workers_per_function: int = MAX_WORKERS_PER_FUNCTION,
        log: LogSink | None = None,
        attach: RunningStack | None = None,
    ) -> None:
        self.template = Template.load(template)
        self.stack_name = stack_name
        self._host = host
        self._port = port
        self._overrides = dict(parameter_overrides or {})
        self._env: Mapping[str, str] = dict(os.environ if env is None else env)
        self._attached = attach
        self._registered = False
        self._keys_registered: list[str] = []
        """The access keys this stack registered (an attached one registers none: the
        running stack's are not its to forget)."""
        if attach is not None:
            # the running stack's endpoint, which knows this stack's function keys
            self._env = {**self._env, "AWS_ENDPOINT_URL": attach.endpoint_url}
            self.stack_name = attach.stack_name
        self._bootstrap = bootstrap
        self._prewarm = prewarm
        self._max_workers = max_workers_per_function
        self._log: LogSink = log or ConsoleLog()
        self._backend = Backend(self._env)
        self._clients: AwsClients | None = None
        self._gateway: Gateway | None = None
        self._deployment: Deployment | None = None
        self._runtime: Runtime | None = None
        self._pump: StreamPump | None = None
        self.admin_email, self.admin_password = admin_credentials(self._env)
        self.faults = faults.Faults.parse(self._env.get("LOCAL_FAULTS"))
        self.injected: faults.Injector | None = None
        self.conflicts = conflicts.Conflicts.parse(self._env.get("LOCAL_CONFLICTS"))
        self.emulated: conflicts.Emulator | None = None
        self.mailbox: Mailbox | None = None
        self.admin_created = False
        self._recorded = False
        """Whether this stack recorded itself for other processes (.devstack/<stack>.json)."""
        self._displaced: RunningStack | None = None
        """Another stack of this checkout that was running when this one started."""

    # ------------------------------------------------------------------ lifecycle
    def provision(self) -> Deployment:
        """Start the backend, create the resources and resolve the template (no functions run)."""
        if self._deployment is None:
            self._clients = AwsClients(self._backend.start())
            self._gateway = Gateway(self._log, self._host, self._port)
            self._deployment = deploy(
                self.template,
                stack_name=self.stack_name,
                region=self._clients.settings.region,
                clients=self._clients,
                api_endpoint=self._gateway.url,
                parameter_overrides=self._overrides,
                warn=lambda line: self._log(f"WARNING: {line}"),
            )
            created = [r.logical_id for r in self._deployment.resources.values() if r.created]
            self._log(
                f"[stack] resources ready at {self.endpoint_url} "
                f"(created: {', '.join(created) or 'none'})"
            )
            if self._deployment.not_emulated:
                self._log(f"[stack] not emulated: {', '.join(self._deployment.not_emulated)}")
        return self._deployment

    def start(self) -> LocalStack:
        """Everything up: functions' first sandboxes, HTTP API, stream pump, admin bootstrap."""
        try:
            deployment = self.provision()
            model = deployment.model
            assert self._gateway is not None
            self._register_principals()
            self._inject_faults()
            self._emulate_conflicts()
            pools = {
                lid: FunctionPool(
                    spec,
                    self.resolved_env(lid),
                    self._log,
                    max_workers=self._max_workers,
                    prewarm=self._prewarm,
                )
                for lid, spec in model.functions.items()
            }
            self._runtime = Runtime(pools)
            self._runtime.start()
            self._pump = StreamPump(
                model.stream_mappings,
                streams=self.clients.dynamodbstreams(),
                invoke=self._runtime.invoke,
                destinations=FailureDestinations(
                    self.clients, self._log, deployment.queue_url_for_arn
                ),
                function_arns={lid: spec.arn for lid, spec in model.functions.items()},
                region=deployment.region,
                log=self._log,
                as_function=self._poller_clients if self._enforces_iam else None,
            )
            self._pump.add_queues(
                queue_pollers(
                    model.queue_mappings,
                    sqs_for=self._poller_sqs,
                    queue_url_for_arn=deployment.queue_url_for_arn,
                    invoke=self._runtime.invoke,
                    region=deployment.region,
                    log=self._log,
                    stopping=self._pump.stopping,
                )
            )
            self._pump.start()
            self.mailbox = Mailbox(deployment.region, self._log)
            if self._backend.embedded:
                # a local rebuild's fence: the stream batches in flight (infra/hot_keys.py)
                pump = self._pump
                self._backend.answer(READERS_PATH, lambda query: {"in_flight": pump.in_flight()})
                self.mailbox.start()
            self._gateway.mount(model.apis, model.routes, self._runtime.invoke, deployment.region)
            self._gateway.start()
            atexit.register(self.stop)
            if self._attached is None and is_local(self.endpoint_url):
                # embedded, or AWS_ENDPOINT_URL on this machine: `eventshop-admin --local`
                # and `devstack invoke` find either (an attached invoke records nothing)
                self._recorded = True
                running = RunningStack.find(self.template.directory, self.stack_name)
                if running is not None and running.pid != os.getpid():  # another `make run`
                    self._displaced = running
                    self._log(
                        f"[stack] another local stack of this checkout runs (pid "
                        f"{self._displaced.pid}, {self._displaced.api_url}): `eventshop-admin "
                        "--local` and `devstack invoke` use this one until it stops"
                    )
                RunningStack(
                    self.stack_name,
                    self.endpoint_url,
                    self.url,
                    os.getpid(),
                    outputs=deployment.outputs(),
                    environment=self.clients.settings.environment(),
                    functions={
                        lid: self.resolved_env(lid, as_function=False)
                        for lid in READER_FUNCTIONS
                        if lid in model.functions
                    },
                ).save(self.template.directory)
            if self._bootstrap:
                self._run_bootstrap()
        except BaseException:
            self.stop()
            raise
        return self

    def _run_bootstrap(self) -> None:
        bootstrap = AdminBootstrap.from_template(self.template)
        if bootstrap is None:
            return
        spec = self.deployment.model.functions.get(bootstrap.function)
        if spec is None:
            self._log(f"WARNING: admin bootstrap names unknown function {bootstrap.function}")
            return
        # an operator's command: it runs as the operator (the stack), not as the function
        self.admin_created = bootstrap.run(
            self.resolved_env(bootstrap.function, as_function=False),
            email=self.admin_email,
            password=self.admin_password,
            cwd=spec.code_dir,
            log=self._log,
        )

    @property
    def _enforces_iam(self) -> bool:
        return self._backend.embedded or self._attached is not None

    def _register_principals(self) -> None:
        """Each function calls AWS with its own access key, which moto's IAM check (devstack.iam)
        maps to the function's role: only the embedded endpoint can enforce it."""
        self._registered = True
        if self._attached is not None:
            return  # the running stack's endpoint has them
        if not self._backend.embedded:
            self._log(
                "[iam] WARNING: permissions are not enforced on an external endpoint "
                f"({self.endpoint_url}); the embedded one enforces them"
            )
            return
        iam.install()
        iam.registry.listeners.append(self._log_denial)
        for lid, principal in self.deployment.principals.items():
            iam.registry.register(iam.access_key_for(self.stack_name, lid), principal)
        self._keys_registered = self._access_keys()

    def _access_keys(self) -> list[str]:
        """The access keys this stack's functions call AWS with."""
        return [iam.access_key_for(self.stack_name, lid) for lid in self.deployment.principals]

    def _inject_faults(self) -> None:
        if not self.faults.active or self._attached is not None:
            return
        if not self._backend.embedded:
            self._log(
                "[faults] WARNING: LOCAL_FAULTS needs the embedded endpoint; "
                f"nothing is injected into {self.endpoint_url}"
            )
            return
        faults.install()
        self.injected = faults.configure(self.faults, self._access_keys())
        self._log(f"[faults] into the functions' DynamoDB requests: {self.faults.describe()}")

    def _emulate_conflicts(self) -> None:
        if self._attached is not None or not self._backend.embedded:
            return
        if not self.conflicts.active:
            self._log("[conflicts] off (LOCAL_CONFLICTS): concurrent transactions never conflict")
            return
        conflicts.install()
        self.emulated = conflicts.configure(self.conflicts, self._access_keys())
        self._log(f"[conflicts] DynamoDB transaction conflicts: {self.conflicts.describe()}")

    def _clients_of(self, function: str) -> AwsClients:
        """Clients that call AWS with the function's own access key (its role)."""
        key = iam.access_key_for(self.stack_name, function)
        return AwsClients(dataclasses.replace(self.clients.settings, access_key_id=key))

    def _poller_clients(self, function: str) -> tuple[Any, FailureDestinations]:
        """What an event source mapping reads and sends with: the function's own key."""
        clients = self._clients_of(function)
        return clients.dynamodbstreams(), FailureDestinations(
            clients, self._log, self.deployment.queue_url_for_arn
        )

    def _poller_sqs(self, function: str) -> Any:
        """What an SQS mapping receives and deletes with: the function's own key (its role
        holds the SQS poller's grants SAM adds for an SQS event), when IAM is enforced."""
        return self._clients_of(function).sqs() if self._enforces_iam else self.clients.sqs()

    def _log_denial(self, denied: iam.AccessDenied) -> None:
        self._log(
            f"[iam] AccessDenied: {denied.principal.function} may not {denied.request.action} "
            f"on {denied.request.resource}"
        )

    def stop(self) -> None:
        """Shut everything down (idempotent)."""
        atexit.unregister(self.stop)
        if self._recorded:  # only the record this stack wrote: never a running one's
            RunningStack.forget(self.template.directory, self.stack_name, pid=os.getpid())
            if self._displaced is not None:  # back to the one that still runs, if it does
                self._displaced.save(self.template.directory)
                RunningStack.find(self.template.directory, self.stack_name)  # drops it if gone
                self._displaced = None
            self._recorded = False
        if self.injected is not None:
            counts = ", ".join(f"{k} {self.injected.injected[k]}" for k in faults.KINDS)
            self._log(f"[faults] injected: {counts}")
            faults.release(self._access_keys())
            self.injected = None
        if self.emulated is not None:
            counts = ", ".join(
                f"{kind} {self.emulated.total(kind)}" for kind in ("cancelled", "conflict")
            )
            self._log(f"[conflicts] emulated: {counts}")
            conflicts.release(self._access_keys())
            self.emulated = None
        if self._log_denial in iam.registry.listeners:
            iam.registry.listeners.remove(self._log_denial)
        for key in self._keys_registered:
            iam.registry.forget(key)
        self._keys_registered = []
        if self._gateway is not None:
            self._gateway.stop()
            self._gateway = None
        if self._pump is not None:
            self._pump.stopping.set()
        if self._runtime is not None:
            self._runtime.stop()
            self._runtime = None
        if self.mailbox is not None:
            self.mailbox.stop()
        if self._pump is not None:
            self._pump.stop()
            self._pump = None
        self._backend.stop()
        self._deployment = None

    def __enter__(self) -> LocalStack:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # ------------------------------------------------------------------ what tests use
    @property
    def deployment(self) -> Deployment:
        return _ready(self._deployment, "provisioned")

    @property
    def embedded(self) -> bool:
        """Whether the stack runs its own endpoint (in memory, gone at stop)."""
        return self._backend.embedded

    @property
    def url(self) -> str:
        return _ready(self._gateway, "started").url

    @property
    def endpoint_url(self) -> str:
        return self.clients.settings.endpoint_url

    @property
    def clients(self) -> AwsClients:
        """boto3 clients on the stack's endpoint, with its region and credentials."""
        return _ready(self._clients, "provisioned")

    @property
    def pump(self) -> StreamPump:
        return _ready(self._pump, "started")

    def table_name(self, logical_id: str) -> str:
        return self.deployment.table_name(logical_id)

    def queue_url(self, logical_id: str) -> str:
        return self.deployment.queue_url(logical_id)

    def function_name(self, logical_id: str) -> str:
        return self.deployment.model.functions[logical_id].name

    def resolved_env(self, function_logical_id: str, *, as_function: bool = True) -> dict[str, str]:
        """The function's environment, exactly as its sandboxes get it: with its own access
        key (its role), unless `as_function` is false (the stack's own credentials)."""
        spec = self.deployment.model.functions[function_logical_id]
        aws = self.clients.settings.environment()
        if as_function and self._enforces_iam:
            aws["AWS_ACCESS_KEY_ID"] = iam.access_key_for(self.stack_name, function_logical_id)
        return function_environment(spec, aws, self._env)

    def invoke_once(self, function_logical_id: str, event: Any) -> InvokeResult:
        """Run one function once, in a sandbox of its own, with its template environment and
        role, against this stack's endpoint (what `sam local invoke` does, without Docker).
        Needs only `provision()`: no gateway, pump or other function runs."""
        deployment = self.provision()
        spec = deployment.model.functions.get(function_logical_id)
        if spec is None:
            known = ", ".join(sorted(deployment.model.functions))
            raise KeyError(f"no function {function_logical_id} in the template (known: {known})")
        if not self._registered:
            self._register_principals()
        pool = FunctionPool(spec, self.resolved_env(function_logical_id), self._log, max_workers=1)
        try:
            return pool.invoke(event)
        finally:
            pool.stop()

    def invoke(self, function_logical_id: str, event: Any) -> Any:
        """Invoke a function synchronously; its result, or `FunctionError` with Lambda's error."""
        result = _ready(self._runtime, "started").invoke(function_logical_id, event)
        if result.error is not None:
            raise FunctionError(result.error)
        return result.payload
