# Dealpulse: one entry point for developers and CI. `make help` lists the targets.
SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

PYTHON_BOOT ?= python3
VENV := .venv
PY := $(VENV)/bin/python
export PYTHONPATH := $(CURDIR):$(CURDIR)/gen/python
export DEALPULSE_RUN ?= $(CURDIR)/.run
PROTOS := $(shell find proto -name '*.proto' | sort)
KUSTOMIZE_VERSION := v5.8.2
export KUSTOMIZE := $(CURDIR)/.cache/kustomize-$(KUSTOMIZE_VERSION)/kustomize

help: ## list targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-16s %s\n", $$1, $$2}'

# --- set-up ----------------------------------------------------------------------
$(VENV)/.installed: requirements.lock
	$(PYTHON_BOOT) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.lock
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-fund --no-audit --loglevel=error
	touch $@

# v5.8.3 needs Go 1.27; GOTOOLCHAIN=local keeps Go from fetching a toolchain.
$(KUSTOMIZE):
	GOBIN=$(dir $(KUSTOMIZE)) GOTOOLCHAIN=local go install sigs.k8s.io/kustomize/kustomize/v5@$(KUSTOMIZE_VERSION)

setup: $(VENV)/.installed node_modules/.installed $(KUSTOMIZE) ## install Python and npm packages, kustomize, the Kafka jars and Redis
	bash deploy/local/kafka.sh fetch
	bash deploy/local/redis.sh install

lock: ## re-pin requirements.lock from requirements.in
	$(PY) -m pip install --quiet uv==0.13.9
	$(VENV)/bin/uv pip compile requirements.in -o requirements.lock --python-version 3.11

# --- schemas -----------------------------------------------------------------------
proto: $(VENV)/.installed ## regenerate Python stubs from proto/ (never edit gen/ by hand)
	rm -rf gen/python && mkdir -p gen/python
	$(PY) -m grpc_tools.protoc -I proto --python_out=gen/python --pyi_out=gen/python --grpc_python_out=gen/python $(PROTOS)

proto-lint: node_modules/.installed ## buf lint
	cd proto && ../node_modules/.bin/buf lint

proto-breaking: node_modules/.installed ## buf breaking against main: run before merging a schema change
	cd proto && ../node_modules/.bin/buf breaking --against '../.git#branch=main,subdir=proto'

check-generated: proto ## fail when generated files differ from what is committed
	$(PY) -m tools.render_topics check
	git diff --exit-code -- gen deploy/k8s/base/topics docs/events
	test -z "$$(git status --porcelain -- gen deploy/k8s/base/topics docs/events)"

topics-render: $(VENV)/.installed ## regenerate Strimzi KafkaTopics and the AsyncAPI document from the registry
	$(PY) -m tools.render_topics all

k8s-render: $(KUSTOMIZE) ## render each overlay to .run/k8s/<overlay>.yaml
	mkdir -p $(DEALPULSE_RUN)/k8s
	for o in dev prod; do $(KUSTOMIZE) build deploy/k8s/overlays/$$o > $(DEALPULSE_RUN)/k8s/$$o.yaml; done

image: ## build the service image (needs a Docker engine)
	docker build -t dealpulse:$${TAG:-dev} .

# --- local stack -------------------------------------------------------------------
infra-up: setup ## start Kafka and Redis and create the topics
	bash deploy/local/kafka.sh start
	bash deploy/local/redis.sh start
	$(PY) -m kernel.topic_admin create

infra-down: ## stop Kafka and Redis
	bash deploy/local/redis.sh stop
	bash deploy/local/kafka.sh stop

up: infra-up ## start everything: Kafka, Redis, topics, every service and the gateway
	DEALPULSE_CLOCK=$${DEALPULSE_CLOCK:-adjustable} $(PY) -m tools.stack start
	@echo "gateway: http://127.0.0.1:8080  (logs in $(DEALPULSE_RUN)/logs)"

down: ## stop everything `make up` started
	-$(PY) -m tools.stack stop
	$(MAKE) --no-print-directory infra-down

status: ## which processes are up
	$(PY) -m tools.stack status

token: $(VENV)/.installed ## mint a local token: make token ROLE=manager TENANT=acme SUB=ann
	@$(PY) -m kernel.auth --tenant $${TENANT:-acme} --sub $${SUB:-ann} --role $${ROLE:-manager}

# --- tests -------------------------------------------------------------------------
test-unit: $(VENV)/.installed node_modules/.installed $(KUSTOMIZE) ## domain, kernel and contract tests, no infrastructure
	$(PY) -m pytest -q tests/unit tests/contract

lint: setup proto-lint check-generated ## schema lint and generated-file checks

test: setup ## everything CI runs: lint, unit, contract, integration and end-to-end tests on real Kafka and Redis
	$(MAKE) --no-print-directory proto-lint check-generated
	started=""; \
	bash deploy/local/kafka.sh status >/dev/null 2>&1 || { bash deploy/local/kafka.sh start; started="$$started kafka"; }; \
	bash deploy/local/redis.sh status >/dev/null 2>&1 || { bash deploy/local/redis.sh start; started="$$started redis"; }; \
	rc=0; $(PY) -m kernel.topic_admin create && $(PY) -m pytest -q -p no:cacheprovider tests/unit tests/contract tests/integration tests/e2e || rc=$$?; \
	for s in $$started; do bash deploy/local/$$s.sh stop || true; done; \
	exit $$rc

bench: infra-up ## run the benchmarks; figures go to bench/results/
	$(PY) -m bench.run

.PHONY: help setup lock proto proto-lint proto-breaking check-generated topics-render k8s-render image infra-up infra-down up down status token test-unit lint test bench
