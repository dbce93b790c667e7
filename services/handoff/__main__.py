from kernel.config import get_settings
from kernel.grpc_server import run_placeholder

run_placeholder("handoff", get_settings())
