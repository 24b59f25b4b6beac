"""The pieces of Stagecraft's Python runtime, shaped after awslambdaric's: the Runtime API client,
handler loading with AWS's fault types, the context object, error documents and the log format.
https://docs.aws.amazon.com/lambda/latest/dg/python-context.html
https://docs.aws.amazon.com/lambda/latest/dg/python-exceptions.html
"""
import decimal
import http.client
import importlib
import json
import logging
import os
import signal
import sys
import time
import traceback

API_PREFIX = "/2018-06-01/runtime"


class FaultException(Exception):
    MARSHAL_ERROR = "Runtime.MarshalError"
    UNMARSHAL_ERROR = "Runtime.UnmarshalError"
    USER_CODE_SYNTAX_ERROR = "Runtime.UserCodeSyntaxError"
    HANDLER_NOT_FOUND = "Runtime.HandlerNotFound"
    IMPORT_MODULE_ERROR = "Runtime.ImportModuleError"
    BUILT_IN_MODULE_CONFLICT = "Runtime.BuiltInModuleConflict"
    MALFORMED_HANDLER_NAME = "Runtime.MalformedHandlerName"

    def __init__(self, exception_type, msg, trace=None):
        super().__init__(msg)
        self.msg = msg
        self.exception_type = exception_type
        self.trace = trace


class RuntimeClient:
    """The Runtime API over one kept-alive HTTP connection, as awslambdaric's client keeps one."""

    def __init__(self, address):
        host, _, port = address.rpartition(":")
        self.connection = http.client.HTTPConnection(host, int(port))

    def _request(self, method, path, body=None, headers=None):
        try:
            self.connection.request(method, API_PREFIX + path, body=body, headers=headers or {})
            response = self.connection.getresponse()
            return response, response.read()
        except OSError:
            os._exit(1)  # the Runtime API is gone only when Stagecraft is: nothing left to report to

    def next(self):
        response, body = self._request("GET", "/invocation/next")
        return response.headers, body

    def post_response(self, request_id, body):
        self._request("POST", "/invocation/%s/response" % request_id, body, {"Content-Type": "application/json"})

    def post_error(self, request_id, error):
        self._post_error("/invocation/%s/error" % request_id, error)

    def post_init_error(self, error):
        self._post_error("/init/error", error)

    def _post_error(self, path, error):
        headers = {"Content-Type": "application/json", "Lambda-Runtime-Function-Error-Type": error["errorType"]}
        self._request("POST", path, to_json(error).encode("utf-8"), headers)


def load_handler(handler):
    """awslambdaric's _get_handler: import errors fail init; a missing function fails each call."""
    try:
        modname, fname = handler.rsplit(".", 1)
    except ValueError as e:
        raise FaultException(FaultException.MALFORMED_HANDLER_NAME, "Bad handler '{}': {}".format(handler, e))
    try:
        if modname.split(".")[0] in sys.builtin_module_names:
            raise FaultException(
                FaultException.BUILT_IN_MODULE_CONFLICT,
                "Cannot use built-in module {} as a handler module".format(modname),
            )
        module = importlib.import_module(modname.replace("/", "."))
    except ImportError as e:
        raise FaultException(FaultException.IMPORT_MODULE_ERROR, "Unable to import module '{}': {}".format(modname, e))
    except SyntaxError as e:
        trace = ['  File "%s" Line %s\n    %s' % (e.filename, e.lineno, e.text)]
        raise FaultException(
            FaultException.USER_CODE_SYNTAX_ERROR, "Syntax error in module '{}': {}".format(modname, e), trace
        )
    try:
        return getattr(module, fname)
    except AttributeError:
        fault = FaultException(
            FaultException.HANDLER_NOT_FOUND, "Handler '{}' missing on module '{}'".format(fname, modname)
        )

        def fault_handler(event, context):
            raise fault

        return fault_handler


def make_error(error_message, error_type, stack_trace, request_id=None):
    return {
        "errorMessage": error_message if error_message else "",
        "errorType": error_type if error_type else "",
        "requestId": request_id if request_id is not None else "",
        "stackTrace": stack_trace if stack_trace else [],
    }


def build_fault_result(exc_info, request_id):
    """The error document of an exception: its type's name, its text, the user's frames only."""
    etype, value, tb = exc_info
    frames = traceback.extract_tb(tb)
    for i, frame in enumerate(frames):
        if not _is_runtime_file(frame.filename):
            frames = frames[i:]
            break
    return make_error(str(value), etype.__name__, traceback.format_list(frames), request_id)


def _is_runtime_file(filename):
    return os.path.dirname(os.path.abspath(filename)) == os.path.dirname(os.path.abspath(__file__))


def log_error(error):
    """`[ERROR] Type: message` and the traceback as one log event, as awslambdaric logs it."""
    description = "[ERROR]"
    if error.get("errorType"):
        description += " " + error["errorType"]
    if error.get("errorMessage"):
        if error.get("errorType"):
            description += ":"
        description += " " + error["errorMessage"]
    lines = [description]
    if error.get("stackTrace") is not None:
        lines.append("Traceback (most recent call last):")
        for element in error["stackTrace"]:
            lines.extend(element.splitlines() if element else [""])
    write_log_event("\n".join(lines))


def write_log_event(text):
    # One log event per write: newlines inside become \r, as in AWS's Node runtime (see console-patch.mjs).
    sys.__stdout__.write(text.replace("\n", "\r") + "\n")
    sys.__stdout__.flush()


def decimal_serializer(o):
    if isinstance(o, decimal.Decimal):
        return float(o)
    raise TypeError(repr(o) + " is not JSON serializable")


def to_json(value):
    return json.dumps(value, default=decimal_serializer, ensure_ascii=False)


class _RequestIdFilter(logging.Filter):
    def __init__(self, state):
        super().__init__()
        self.state = state

    def filter(self, record):
        record.aws_request_id = self.state.request_id
        return True


class _LambdaHandler(logging.Handler):
    def emit(self, record):
        write_log_event(self.format(record).rstrip("\n"))


class _State:
    request_id = None


STATE = _State()


def setup_logging():
    """The root logger's handler in AWS's text format; its level stays WARNING unless the user sets it."""
    logging.Formatter.converter = time.gmtime
    handler = _LambdaHandler()
    handler.setFormatter(
        logging.Formatter(
            "[%(levelname)s]\t%(asctime)s.%(msecs)03dZ\t%(aws_request_id)s\t%(message)s\n", "%Y-%m-%dT%H:%M:%S"
        )
    )
    handler.addFilter(_RequestIdFilter(STATE))
    logging.getLogger().addHandler(handler)


class CognitoIdentity:
    __slots__ = ["cognito_identity_id", "cognito_identity_pool_id"]


class Client:
    __slots__ = ["installation_id", "app_title", "app_version_name", "app_version_code", "app_package_name"]


class ClientContext:
    __slots__ = ["custom", "env", "client"]


def _from_dict(cls, values):
    if values is None:
        return None
    obj = cls()
    for slot in cls.__slots__:
        setattr(obj, slot, values.get(slot))
    return obj


class LambdaContext:
    def __init__(self, request_id, client_context, cognito_identity, deadline_ms, invoked_function_arn):
        env = os.environ
        self.aws_request_id = request_id
        self.log_group_name = env.get("AWS_LAMBDA_LOG_GROUP_NAME")
        self.log_stream_name = env.get("AWS_LAMBDA_LOG_STREAM_NAME")
        self.function_name = env.get("AWS_LAMBDA_FUNCTION_NAME")
        self.memory_limit_in_mb = env.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE")
        self.function_version = env.get("AWS_LAMBDA_FUNCTION_VERSION")
        self.invoked_function_arn = invoked_function_arn
        self.client_context = _from_dict(ClientContext, client_context)
        if self.client_context is not None:
            self.client_context.client = _from_dict(Client, self.client_context.client)
        self.identity = _from_dict(CognitoIdentity, {})
        if cognito_identity is not None:
            self.identity.cognito_identity_id = cognito_identity.get("cognitoIdentityId")
            self.identity.cognito_identity_pool_id = cognito_identity.get("cognitoIdentityPoolId")
        self._deadline_ms = deadline_ms

    def get_remaining_time_in_millis(self):
        left = self._deadline_ms - int(time.time() * 1000)
        return left if left > 0 else 0

    def log(self, msg):
        write_log_event(str(msg))


def handle(client, handler, invocation):
    """One invocation, as awslambdaric's handle_event_request runs it."""
    headers, body = invocation
    request_id = headers.get("Lambda-Runtime-Aws-Request-Id", "")
    STATE.request_id = request_id
    trace_id = headers.get("Lambda-Runtime-Trace-Id")
    if trace_id is not None:
        os.environ["_X_AMZN_TRACE_ID"] = trace_id
    else:
        os.environ.pop("_X_AMZN_TRACE_ID", None)
    error = None
    try:
        client_context = _json_header(headers, "Lambda-Runtime-Client-Context")
        identity = _json_header(headers, "Lambda-Runtime-Cognito-Identity")
        context = LambdaContext(
            request_id,
            client_context,
            identity,
            int(headers.get("Lambda-Runtime-Deadline-Ms", "0")),
            headers.get("Lambda-Runtime-Invoked-Function-Arn"),
        )
        try:
            event = json.loads(body.decode("utf-8"))
        except ValueError as e:
            raise FaultException(FaultException.UNMARSHAL_ERROR, "Unable to unmarshal input: {}".format(e))
        result = handler(event, context)
        try:
            payload = to_json(result)
        except (TypeError, ValueError) as e:
            raise FaultException(FaultException.MARSHAL_ERROR, "Unable to marshal response: {}".format(e))
    except FaultException as fault:
        error = make_error(fault.msg, fault.exception_type, fault.trace, request_id)
    except MemoryError:
        # Lambda's memory limit is a cgroup: the runtime is killed, it does not get to answer.
        os.kill(os.getpid(), signal.SIGKILL)
    except Exception:  # noqa: BLE001 - any exception of the handler is the invocation's error
        error = build_fault_result(sys.exc_info(), request_id)
    sys.stdout.flush()
    sys.stderr.flush()
    if error is not None:
        log_error(error)
        client.post_error(request_id, error)
    else:
        client.post_response(request_id, payload.encode("utf-8"))


def _json_header(headers, name):
    value = headers.get(name)
    return json.loads(value) if value else None
