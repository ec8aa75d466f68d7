-- wrk: print the numbers the benchmark table needs, machine-readably.
done = function(summary, latency, requests)
  local seconds = summary.duration / 1e6
  io.write(string.format("BENCH requests=%d errors=%d seconds=%.3f rps=%.1f p50_ms=%.2f p95_ms=%.2f p99_ms=%.2f\n",
    summary.requests,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.status + summary.errors.timeout,
    seconds, summary.requests / seconds,
    latency:percentile(50) / 1000, latency:percentile(95) / 1000, latency:percentile(99) / 1000))
end
