# Shared by demo.sh and bench.sh: start and stop the local stack (moto_server
# and the Atlas simulator) on 127.0.0.1. Source it; call stack_stop on exit.

STACK_PIDS=()

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# start_moto sets MOTO_URL.
start_moto() {
  command -v moto_server >/dev/null || { echo "moto_server is not installed (Python moto[server])" >&2; return 1; }
  local port; port=$(free_port)
  moto_server -H 127.0.0.1 -p "$port" >"$WORK/moto.log" 2>&1 &
  STACK_PIDS+=($!)
  MOTO_URL="http://127.0.0.1:$port"
  for _ in $(seq 1 150); do
    curl -fsS -o /dev/null "$MOTO_URL/moto-api/" 2>/dev/null && return 0
    sleep 0.2
  done
  echo "moto_server did not start; see $WORK/moto.log" >&2
  return 1
}

# start_tool NAME ARGS...: starts $BIN/NAME with -url-file, and prints the
# URL it writes there once it listens.
start_tool() {
  local name=$1; shift
  "$BIN/$name" -url-file "$WORK/$name.url" "$@" >/dev/null 2>"$WORK/$name.log" &
  STACK_PIDS+=($!)
  for _ in $(seq 1 100); do
    [ -s "$WORK/$name.url" ] && { cat "$WORK/$name.url"; return 0; }
    sleep 0.1
  done
  echo "$name did not start; see $WORK/$name.log" >&2
  return 1
}

# start_sim ARGS... sets SIM_URL.
start_sim() { start_tool atlas-sim "$@" >"$WORK/atlas-sim.started" && SIM_URL=$(cat "$WORK/atlas-sim.started"); }

# start_gcp_sim ARGS... sets GCP_URL and writes the simulator's
# service-account key to $WORK/gcp-sa.json.
start_gcp_sim() {
  start_tool gcp-sim -key-file "$WORK/gcp-sa.json" "$@" >"$WORK/gcp-sim.started" && GCP_URL=$(cat "$WORK/gcp-sim.started")
}

# start_azure_sim ARGS... sets AZURE_URL.
start_azure_sim() {
  start_tool azure-sim "$@" >"$WORK/azure-sim.started" && AZURE_URL=$(cat "$WORK/azure-sim.started")
}

stack_stop() {
  local pid
  for pid in "${STACK_PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${STACK_PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  STACK_PIDS=()
}
