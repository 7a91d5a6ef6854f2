# Operator shortcuts for a running Bosun (`npm start`), as the runbook names them. POSIX make + sh + curl.
# The token comes from $OPS_API_TOKEN, else from state/ops_token (paper mode writes it there, mode 0600).
OPS_URL ?= http://127.0.0.1:8002
ENGINE_URL ?= http://127.0.0.1:8003
STATE_DIR ?= state
OPS_ACTOR ?= $(USER)
TOKEN = $${OPS_API_TOKEN:-$$(cat $(STATE_DIR)/ops_token 2>/dev/null)}
KEY = make-$$(date +%s)-$$$$
CURL = curl -sS --fail-with-body -H "X-Ops-Token: $(TOKEN)" -H "X-Ops-Actor: $(OPS_ACTOR)" -H "Idempotency-Key: $(KEY)" -H "Content-Type: application/json"

.PHONY: help order status kill resume reconcile weights

help:
	@echo "make order ORDER_SYMBOL=BTCUSDT.BINANCE ORDER_SIDE=BUY ORDER_QUOTE=25   test order through every rail"
	@echo "make status | kill | resume | reconcile | weights STABLE=0.7 CANARY=0.3"

order:
	@test -n "$(ORDER_SYMBOL)" -a -n "$(ORDER_SIDE)" -a -n "$(ORDER_QUOTE)" || { echo "usage: make order ORDER_SYMBOL=BTCUSDT.BINANCE ORDER_SIDE=BUY ORDER_QUOTE=25" >&2; exit 2; }
	@$(CURL) -X POST $(ENGINE_URL)/orders -d '{"symbol":"$(ORDER_SYMBOL)","side":"$(ORDER_SIDE)","quote":$(ORDER_QUOTE)}'; echo

status:
	@curl -sS --fail-with-body $(OPS_URL)/status; echo

kill:
	@$(CURL) -X POST $(OPS_URL)/kill -d '{"enabled": false}'; echo

resume:
	@$(CURL) -X POST $(OPS_URL)/kill -d '{"enabled": true}'; echo

reconcile:
	@curl -sS --fail-with-body -X POST $(ENGINE_URL)/reconcile/manual; echo

weights:
	@$(CURL) -X POST $(OPS_URL)/strategy/weights -d '{"weights":{"stable_model":$(STABLE),"canary_model":$(CANARY)}}'; echo
