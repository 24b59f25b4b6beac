"""Stagecraft's Python runtime: what an execution environment starts for python3.x functions.

Like AWS's own (awslambdaric) it talks to Lambda only through the Runtime API over HTTP, imports
_HANDLER once from LAMBDA_TASK_ROOT (the init phase), then loops: next, run the handler, post the
response or the error. Standard library only. https://github.com/aws/aws-lambda-python-runtime-interface-client
"""
import os
import resource
import signal
import sys
import threading
import time

import stagecraft_lambda_runtime as runtime

# This folder leads sys.path only to import the runtime's own module above: the function's code wins.
sys.path.pop(0)

#: Address space allowed beyond the function's memory: a backstop only. The execution environment
#: kills a runtime whose resident memory passes the limit, as Lambda's cgroup does.
BACKSTOP_MB = 1024


def main():
    limit_memory(int(os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "0")))
    task_root = os.environ.get("LAMBDA_TASK_ROOT", os.getcwd())
    sys.path.insert(0, task_root)
    client = runtime.RuntimeClient(os.environ["AWS_LAMBDA_RUNTIME_API"])
    watch_parent()
    runtime.setup_logging()
    handler_name = os.environ.get("_HANDLER", "")
    try:
        handler = runtime.load_handler(handler_name)
    except runtime.FaultException as fault:
        report_init_error(client, runtime.make_error(fault.msg, fault.exception_type, fault.trace))
    except Exception:  # noqa: BLE001 - whatever the module raised at import is an init error
        report_init_error(client, runtime.build_fault_result(sys.exc_info(), None))
    while True:
        invocation = client.next()
        runtime.handle(client, handler, invocation)


def report_init_error(client, error):
    runtime.log_error(error)
    client.post_init_error(error)
    sys.exit(1)


def limit_memory(memory_mb):
    if memory_mb <= 0:
        return
    limit = (memory_mb + BACKSTOP_MB) * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def watch_parent():
    """If Stagecraft dies without stopping us, we are re-parented: exit rather than linger."""
    parent = os.getppid()

    def check():
        while True:
            time.sleep(1)
            if os.getppid() != parent:
                os._exit(1)

    threading.Thread(target=check, name="stagecraft-parent-watch", daemon=True).start()


if __name__ == "__main__":
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    main()
