// A small line chart of samples over time, drawn as SVG (no chart library for two lines).
export interface Sample {
  t: number; // ms since epoch
  v: number;
}

export function LineChart(props: { title: string; unit: string; samples: Sample[]; color: string; testid?: string }) {
  const w = 320;
  const h = 110;
  const pad = { l: 44, r: 8, t: 8, b: 20 };
  const s = props.samples;
  const last = s.length ? s[s.length - 1].v : null;
  const max = Math.max(1, ...s.map((x) => x.v)) * 1.15;
  const t0 = s.length ? s[0].t : 0;
  const t1 = s.length > 1 ? s[s.length - 1].t : t0 + 1;
  const x = (t: number) => pad.l + ((t - t0) / (t1 - t0 || 1)) * (w - pad.l - pad.r);
  const y = (v: number) => pad.t + (1 - v / max) * (h - pad.t - pad.b);
  const d = s.map((p, i) => `${i ? 'L' : 'M'}${x(p.t).toFixed(1)},${y(p.v).toFixed(1)}`).join(' ');
  const fmt = (v: number) => (v >= 100 ? Math.round(v).toString() : v.toFixed(1));
  const summary = s.length
    ? `${props.title}: ${s.length} samples over ${Math.round((t1 - t0) / 1000)} s, last ${fmt(last!)} ${props.unit}, highest ${fmt(Math.max(...s.map((p) => p.v)))} ${props.unit}`
    : `${props.title}: no samples yet`;
  return (
    <figure class="chart" data-testid={props.testid} data-samples={s.length}>
      <figcaption>
        {props.title}: <strong>{last === null ? '—' : `${fmt(last)} ${props.unit}`}</strong>
      </figcaption>
      <svg viewBox={`0 0 ${w} ${h}`} role="img" aria-label={summary}>
        <line x1={pad.l} y1={y(0)} x2={w - pad.r} y2={y(0)} class="axis" />
        <line x1={pad.l} y1={pad.t} x2={pad.l} y2={y(0)} class="axis" />
        <text x={pad.l - 4} y={pad.t + 8} text-anchor="end" class="tick">
          {fmt(max)}
        </text>
        <text x={pad.l - 4} y={y(0)} text-anchor="end" class="tick">
          0
        </text>
        <text x={w - pad.r} y={h - 4} text-anchor="end" class="tick">
          {s.length > 1 ? `${Math.round((t1 - t0) / 1000)} s` : ''}
        </text>
        {s.length > 1 && <path d={d} fill="none" stroke={props.color} stroke-width="2" />}
        {s.length === 1 && <circle cx={x(s[0].t)} cy={y(s[0].v)} r="3" fill={props.color} />}
      </svg>
    </figure>
  );
}
