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

# start_sim ARGS... sets SIM_URL.
start_sim() {
  "$BIN/atlas-sim" -url-file "$WORK/sim.url" "$@" >/dev/null 2>"$WORK/sim.log" &
  STACK_PIDS+=($!)
  for _ in $(seq 1 100); do
    [ -s "$WORK/sim.url" ] && { SIM_URL=$(cat "$WORK/sim.url"); return 0; }
    sleep 0.1
  done
  echo "atlas-sim did not start; see $WORK/sim.log" >&2
  return 1
}

# start_gcp_sim ARGS... sets GCP_URL and writes the simulator's
# service-account key to $WORK/gcp-sa.json.
start_gcp_sim() {
  "$BIN/gcp-sim" -url-file "$WORK/gcp.url" -key-file "$WORK/gcp-sa.json" "$@" >/dev/null 2>"$WORK/gcp-sim.log" &
  STACK_PIDS+=($!)
  for _ in $(seq 1 100); do
    [ -s "$WORK/gcp.url" ] && { GCP_URL=$(cat "$WORK/gcp.url"); return 0; }
    sleep 0.1
  done
  echo "gcp-sim did not start; see $WORK/gcp-sim.log" >&2
  return 1
}

stack_stop() {
  local pid
  for pid in "${STACK_PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${STACK_PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  STACK_PIDS=()
}
