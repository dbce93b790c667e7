# syntax=docker/dockerfile:1
#
# One image for every Dealpulse process. Each Kubernetes workload sets its own command:
#   python -m services.gateway | services.actions grpc | services.actions worker
#   | services.handoff | services.forecast | services.coaching | services.audit
#
#   docker build -t dealpulse:dev .
#
# Generated protobuf code (gen/python) must be current before building: it is copied,
# not generated, here.

ARG PYTHON_IMAGE=python:3.11-slim

# ---- build: resolve the locked dependencies into a self-contained virtualenv ----------
FROM ${PYTHON_IMAGE} AS build

ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PYTHONDONTWRITEBYTECODE=1

RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH

COPY requirements.lock /tmp/requirements.lock
RUN pip install --no-cache-dir -r /tmp/requirements.lock

# ---- runtime ----------------------------------------------------------------------------
FROM ${PYTHON_IMAGE} AS runtime

LABEL org.opencontainers.image.title="dealpulse" \
      org.opencontainers.image.description="Dealpulse services: gateway, actions, handoff, forecast, coaching, audit"

# The root filesystem is read-only in Kubernetes: nothing may need to write .pyc files at
# run time (they are compiled below), and logs go to stdout unbuffered.
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONPATH=/app:/app/gen/python \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1

RUN groupadd --system --gid 10001 dealpulse \
 && useradd --system --uid 10001 --gid 10001 --no-create-home \
      --home-dir /nonexistent --shell /usr/sbin/nologin dealpulse

COPY --from=build /opt/venv /opt/venv

WORKDIR /app
COPY kernel/ /app/kernel/
COPY services/ /app/services/
COPY gen/python/ /app/gen/python/
RUN python -m compileall -q /app/kernel /app/services /app/gen/python

USER 10001:10001

# gateway HTTP, gRPC services, Faust worker web (probes)
EXPOSE 8080 50051 6066

# No default process: say how to pick one instead of starting the wrong service.
CMD ["python", "-c", "raise SystemExit('dealpulse: set the command, e.g. python -m services.gateway | services.actions grpc | services.actions worker | services.<handoff|forecast|coaching|audit>')"]
