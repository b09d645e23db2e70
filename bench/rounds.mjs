// Interleaved rounds (A B C D A B C D …) and their statistics, shared by the Node and workerd
// benches. `clock()` returns milliseconds.

/// Checks once that a contender accepts a valid token and rejects a tampered one.
export async function checkCorrectness(contender, token, tampered) {
  const ok = await contender.verify(token);
  const forged = await contender.verify(tampered);
  if (!ok || forged) {
    throw new Error(`${contender.name}: accepts valid=${!!ok}, accepts tampered=${!!forged}: not a fair contender`);
  }
}

/// Runs `iterations` verifications of `tokens` (cycled) and returns the elapsed milliseconds.
export async function timeBatch(contender, tokens, iterations, clock) {
  const n = tokens.length;
  let accepted = 0;
  const start = clock();
  if (contender.sync) {
    // Strictly true: a promise answered where a sync result was expected is counted as rejected.
    for (let i = 0; i < iterations; i++) if (contender.verify(tokens[i % n]) === true) accepted++;
  } else {
    for (let i = 0; i < iterations; i++) if (await contender.verify(tokens[i % n])) accepted++;
  }
  const elapsed = clock() - start;
  if (accepted !== iterations) throw new Error(`${contender.name}: rejected ${iterations - accepted} valid tokens`);
  return elapsed;
}

export function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/// Per contender: µs/op median, min, max over rounds; ops/s; ratio of jwtedge's speed to theirs.
export function summarise(results, referenceName) {
  const rows = results.map((r) => {
    const us = r.samples.map((ms) => (ms * 1000) / r.iterations);
    return { name: r.name, baseline: !!r.baseline, median: median(us), min: Math.min(...us), max: Math.max(...us), rounds: us.length };
  });
  const ref = rows.find((r) => r.name === referenceName);
  for (const r of rows) {
    r.opsPerSec = 1e6 / r.median;
    r.jwtedgeSpeedup = ref ? r.median / ref.median : NaN;
  }
  return rows;
}

export function formatTable(title, rows) {
  const lines = [
    `#### ${title}`,
    "",
    "| verifier | µs/op median | min | max | ops/s | jwtedge is × faster |",
    "|---|---:|---:|---:|---:|---:|",
  ];
  for (const r of rows) {
    lines.push(
      `| ${r.name} | ${r.median.toFixed(2)} | ${r.min.toFixed(2)} | ${r.max.toFixed(2)} | ${Math.round(r.opsPerSec).toLocaleString("en-US")} | ${r.jwtedgeSpeedup.toFixed(2)} |`,
    );
  }
  return lines.join("\n");
}
