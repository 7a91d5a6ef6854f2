# Operator shortcuts for a running Bosun (`npm start`), as the runbook names them. POSIX make + sh + curl.
# The token comes from $OPS_API_TOKEN, else from state/ops_token (paper mode writes it there, mode 0600).
OPS_URL ?= http://127.0.0.1:8002
ENGINE_URL ?= http://127.0.0.1:8003
STATE_DIR ?= state
OPS_ACTOR ?= $(USER)
TOKEN = $${OPS_API_TOKEN:-$$(cat $(STATE_DIR)/ops_token 2>/dev/null)}
KEY = make-$$(date +%s)-$$$$
# `cmd; echo` would exit with echo's status (0) even when curl failed: keep curl's.
NEWLINE_KEEP_STATUS = rc=$$?; echo; exit $$rc
CURL = curl -sS --fail-with-body -H "X-Ops-Token: $(TOKEN)" -H "X-Ops-Actor: $(OPS_ACTOR)" -H "Idempotency-Key: $(KEY)" -H "Content-Type: application/json"

PROM_URL ?= http://localhost:9090
GRAFANA_URL ?= http://localhost:3000
GRAFANA_USER ?= admin
GRAFANA_PASSWORD ?= admin
PROMTOOL ?= promtool
OBS = ops/observability
BOSUN_JS = dist/cli/bosun.js
BOSUN = node $(BOSUN_JS)
COMPOSE = docker compose
# Docker targets say so and fail when docker is absent (a host running `npm start` has no containers to drive).
NEED_DOCKER = command -v docker >/dev/null 2>&1 || { echo "docker is not installed: 'make $@' drives compose.yaml with docker compose. Install Docker, or run Bosun directly with 'npm start' (and Prometheus/Grafana yourself)." >&2; exit 1; }

.PHONY: help order status kill resume reconcile weights smoke-exporter smoke-prom up-core up-obs down down-all \
	validate-obs prom-reload grafana-import grafana-restart executor-down

help:
	@echo "make order ORDER_SYMBOL=BTCUSDT.BINANCE ORDER_SIDE=BUY ORDER_QUOTE=25   test order through every rail"
	@echo "make status | kill | resume | reconcile | weights STABLE=0.7 CANARY=0.3"
	@echo "make smoke-exporter | smoke-prom [PROM_URL=…]                          the runbook's daily checks"
	@echo "make up-core | up-obs | down | down-all | grafana-restart               docker compose (compose.yaml)"
	@echo "make validate-obs | prom-reload | grafana-import path=<dashboard.json> | executor-down"

# The CLI is what `npm run build` compiles; build it once if this checkout has no dist/ yet.
$(BOSUN_JS):
	npm run build --silent

order:
	@test -n "$(ORDER_SYMBOL)" -a -n "$(ORDER_SIDE)" -a -n "$(ORDER_QUOTE)" || { echo "usage: make order ORDER_SYMBOL=BTCUSDT.BINANCE ORDER_SIDE=BUY ORDER_QUOTE=25" >&2; exit 2; }
	@$(CURL) -X POST $(ENGINE_URL)/orders -d '{"symbol":"$(ORDER_SYMBOL)","side":"$(ORDER_SIDE)","quote":$(ORDER_QUOTE)}'; $(NEWLINE_KEEP_STATUS)

status:
	@curl -sS --fail-with-body $(OPS_URL)/status; $(NEWLINE_KEEP_STATUS)

kill:
	@$(CURL) -X POST $(OPS_URL)/kill -d '{"enabled": false}'; $(NEWLINE_KEEP_STATUS)

resume:
	@$(CURL) -X POST $(OPS_URL)/kill -d '{"enabled": true}'; $(NEWLINE_KEEP_STATUS)

reconcile:
	@curl -sS --fail-with-body -X POST $(ENGINE_URL)/reconcile/manual; $(NEWLINE_KEEP_STATUS)

weights:
	@$(CURL) -X POST $(OPS_URL)/strategy/weights -d '{"weights":{"stable_model":$(STABLE),"canary_model":$(CANARY)}}'; $(NEWLINE_KEEP_STATUS)

# Runbook Daily Check: the exporter metrics are non-empty and equity − (cash + market value) ≈ 0.
smoke-exporter: $(BOSUN_JS)
	@$(BOSUN) smoke exporter --engine-url $(ENGINE_URL)

# Runbook Daily Check: Prometheus reports engine_binance, engine_kraken, ops (and the exporter) up.
smoke-prom: $(BOSUN_JS)
	@$(BOSUN) smoke prom --prom-url $(PROM_URL)

up-core:
	@$(NEED_DOCKER)
	$(COMPOSE) up -d --build engine

up-obs:
	@$(NEED_DOCKER)
	$(COMPOSE) --profile obs up -d prometheus grafana

down:
	@$(NEED_DOCKER)
	$(COMPOSE) stop engine

down-all:
	@$(NEED_DOCKER)
	$(COMPOSE) --profile obs down

grafana-restart:
	@$(NEED_DOCKER)
	$(COMPOSE) --profile obs restart grafana

# promtool over the scrape config and the alert rules, then the dashboards: JSON shape, metric names, PromQL.
validate-obs: $(BOSUN_JS)
	@command -v $(PROMTOOL) >/dev/null 2>&1 || { echo "promtool is not installed: apt-get install prometheus (Debian ships promtool with it)" >&2; exit 1; }
	$(PROMTOOL) check config $(OBS)/prometheus/prometheus.yml
	$(PROMTOOL) check rules $(OBS)/prometheus/rules/*.rules.yml
	@$(BOSUN) validate-dashboards $(OBS)/grafana/dashboards/*.json --promtool $(PROMTOOL)

# Needs Prometheus started with --web.enable-lifecycle (compose.yaml does).
prom-reload:
	@curl -sS --fail-with-body -X POST $(PROM_URL)/-/reload || { echo "prometheus at $(PROM_URL) refused the reload (is it running with --web.enable-lifecycle?)" >&2; exit 1; }
	@echo "prometheus at $(PROM_URL) reloaded its config and rules"

grafana-import:
	@test -n "$(path)" || { echo "usage: make grafana-import path=$(OBS)/grafana/dashboards/command_center.json" >&2; exit 2; }
	@node -e 'const d=JSON.parse(require("fs").readFileSync(process.argv[1],"utf8"));d.id=null;process.stdout.write(JSON.stringify({dashboard:d,overwrite:true}))' "$(path)" \
	| curl -sS --fail-with-body -u "$(GRAFANA_USER):$(GRAFANA_PASSWORD)" -H "Content-Type: application/json" -X POST $(GRAFANA_URL)/api/dashboards/db --data-binary @-; $(NEWLINE_KEEP_STATUS)

# Stops the order executor (the engine's POST /executor/stop); trading governance is unchanged.
executor-down:
	@$(CURL) -X POST $(ENGINE_URL)/executor/stop -d '{}'; $(NEWLINE_KEEP_STATUS)
