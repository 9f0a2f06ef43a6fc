#!/usr/bin/env node
// A cash-reserving backtest engine in plain JavaScript, gated by cashfuzz through the
// exec protocol (docs/engine-protocol.md): the scenario file on stdin, the event tape
// (JSON lines) on stdout.
//
//   cashfuzz gate --engine 'exec:node examples/engines/js/engine.js'
//   node examples/engines/js/engine.js --bug no-reservation   (a deliberately broken variant)
//
// Semantics follow cashfuzz's reference engine (README, "Reference engine semantics"):
// integer money (BigInt cents, prices in ticks of 0.0001), a worst-case reservation per
// BUY, sizing from available cash, fills at the next open or the same close, volume caps,
// DAY/GTC, cancels. One difference: bounded random slippage is drawn from this file's own
// seeded generator, so its draws (not its rules) differ from the reference engine's.
// No floating point touches money.
"use strict";

const PROTOCOL = 1;
const CENTS = 100n;
const TICKS = 10000n;
const TICKS_PER_CENT = 100n;
const SLIPPAGE_SCALE = 1000000n;

const BUGS = ["no-reservation"];

// --- exact arithmetic -----------------------------------------------------------------

function floorDiv(a, b) {
  // b > 0; BigInt division truncates toward zero
  const q = a / b;
  return a % b !== 0n && a < 0n ? q - 1n : q;
}
const ceilDiv = (a, b) => -floorDiv(-a, b);
const max = (a, b) => (a > b ? a : b);
const min = (a, b) => (a < b ? a : b);

function gcd(a, b) {
  a = a < 0n ? -a : a;
  while (b) [a, b] = [b, a % b];
  return a;
}
function frac(n, d = 1n) {
  if (d < 0n) [n, d] = [-n, -d];
  const g = gcd(n, d) || 1n;
  return { n: n / g, d: d / g };
}
const fsub = (x, y) => frac(x.n * y.d - y.n * x.d, x.d * y.d);
const fmul = (x, y) => frac(x.n * y.n, x.d * y.d);
const fdiv = (x, y) => frac(x.n * y.d, x.d * y.n);

class InputProblem extends Error {}

// "12.34", "-1", "1E-7", 0.5 (a JSON number) or "1/3" -> exact fraction
function parseFraction(value, where) {
  if (typeof value === "number") {
    if (!Number.isFinite(value)) throw new InputProblem(`${where}=${value} is not finite`);
    if (Number.isInteger(value)) {
      if (!Number.isSafeInteger(value)) throw new InputProblem(`${where}=${value} is too large`);
      return frac(BigInt(value));
    }
    value = String(value);
  }
  if (typeof value !== "string") throw new InputProblem(`${where} must be a number`);
  const text = value.trim();
  const ratio = /^(-?\d+)\/(\d+)$/.exec(text);
  if (ratio) return frac(BigInt(ratio[1]), BigInt(ratio[2]));
  const m = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/.exec(text);
  if (!m || (m[2] === "" && (m[3] === undefined || m[3] === ""))) {
    throw new InputProblem(`${where}=${JSON.stringify(value)} is not a decimal number`);
  }
  const digits = (m[2] || "") + (m[3] || "");
  let exponent = -(m[3] || "").length + Number(m[4] || 0);
  let n = BigInt(digits || "0");
  let d = 1n;
  if (exponent >= 0) n *= 10n ** BigInt(exponent);
  else d = 10n ** BigInt(-exponent);
  return frac(m[1] === "-" ? -n : n, d);
}

// a value in units of 1/scale, rounded half-to-even (as cashfuzz reads scenario files)
function toUnits(value, scale, where) {
  const f = parseFraction(value, where);
  const n = f.n * scale;
  const q = floorDiv(n, f.d);
  const r = n - q * f.d;
  if (2n * r > f.d || (2n * r === f.d && q % 2n !== 0n)) return q + 1n;
  return q;
}

function formatUnits(units, places) {
  const sign = units < 0n ? "-" : "";
  const abs = units < 0n ? -units : units;
  const scale = 10n ** BigInt(places);
  return `${sign}${abs / scale}.${(abs % scale).toString().padStart(places, "0")}`;
}
const money = (cents) => formatUnits(cents, 2);
const price = (ticks) => formatUnits(ticks, 4);

// --- costs -----------------------------------------------------------------------------

function feeCents(notional, rate, minimum) {
  if (notional <= 0n) return 0n;
  return max(ceilDiv(notional * rate.n, rate.d * TICKS_PER_CENT), minimum);
}
const costCents = (notional) => ceilDiv(notional, TICKS_PER_CENT);
const proceedsCents = (notional) => floorDiv(notional, TICKS_PER_CENT);
const buyPrice = (p, slip) => ceilDiv(p * (SLIPPAGE_SCALE + slip), SLIPPAGE_SCALE);
const sellPrice = (p, slip) => floorDiv(p * (SLIPPAGE_SCALE - slip), SLIPPAGE_SCALE);

class Costs {
  constructor(raw) {
    raw = raw || {};
    this.rate = parseFraction(raw.commission_rate ?? "0", "costs.commission_rate");
    this.minimum = toUnits(raw.commission_min ?? "0", CENTS, "costs.commission_min");
    this.random = "max_slippage_bps" in raw;
    const bps = parseFraction(raw.max_slippage_bps ?? raw.slippage_bps ?? "0", "costs.slippage_bps");
    this.maxSlippage = ceilDiv(bps.n * 100n, bps.d); // millionths, rounded up
  }
  buyTotal(notional) {
    if (notional <= 0n) return 0n;
    return costCents(notional) + feeCents(notional, this.rate, this.minimum);
  }
  sellNet(notional) {
    if (notional <= 0n) return 0n;
    return proceedsCents(notional) - feeCents(notional, this.rate, this.minimum);
  }
  // [cash delta, commission] of a fill taking an order's notional from before to after
  buyFill(before, after) {
    const fee = feeCents(after, this.rate, this.minimum) - feeCents(before, this.rate, this.minimum);
    return [this.buyTotal(before) - this.buyTotal(after), fee];
  }
  sellFill(before, after) {
    const fee = feeCents(after, this.rate, this.minimum) - feeCents(before, this.rate, this.minimum);
    return [this.sellNet(after) - this.sellNet(before), fee];
  }
  limitPrice(reference) {
    return buyPrice(reference, this.maxSlippage);
  }
  sellReserve() {
    return max(this.minimum, this.rate.n > 0n ? 1n : 0n);
  }
  affordable(cash, limit) {
    if (cash <= 0n || limit <= 0n) return 0n;
    const byMinimum = floorDiv((cash - this.minimum) * 100n, limit);
    if (byMinimum <= 0n) return 0n;
    const byRate = floorDiv(cash * 100n * this.rate.d, limit * (this.rate.d + this.rate.n));
    let quantity = min(byMinimum, byRate);
    while (quantity > 0n && this.buyTotal(quantity * limit) > cash) quantity -= 1n;
    return quantity;
  }
}

// seeded, bounded slippage draws (splitmix64): deterministic per scenario seed
class Slippage {
  constructor(costs, seed) {
    this.maximum = costs.maxSlippage;
    this.random = costs.random;
    this.state = BigInt.asUintN(64, BigInt(seed));
  }
  draw() {
    if (!this.random) return this.maximum;
    this.state = BigInt.asUintN(64, this.state + 0x9e3779b97f4a7c15n);
    let z = this.state;
    z = BigInt.asUintN(64, (z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n);
    z = BigInt.asUintN(64, (z ^ (z >> 27n)) * 0x94d049bb133111ebn);
    z = z ^ (z >> 31n);
    return z % (this.maximum + 1n);
  }
}

// --- sizers: a target position in shares --------------------------------------------------

function makeSizer(raw) {
  raw = raw || { kind: "percent_equity", fraction: "0.1" };
  switch (raw.kind) {
    case "fixed_amount": {
      const amount = toUnits(raw.amount, CENTS, "sizer.amount");
      return (reference) => floorDiv(amount * 100n, reference);
    }
    case "fixed_shares": {
      const shares = BigInt(raw.shares);
      return () => shares;
    }
    case "percent_equity": {
      const f = parseFraction(raw.fraction, "sizer.fraction");
      return (reference, equity) => max(0n, floorDiv(equity * f.n, f.d * reference));
    }
    case "kelly": {
      const f = parseFraction(raw.fraction, "sizer.fraction");
      const payoff = parseFraction(raw.payoff ?? "2", "sizer.payoff");
      return (reference, equity, strength) => {
        const kelly = fsub(strength, fdiv(fsub(frac(1n), strength), payoff));
        if (kelly.n <= 0n || equity <= 0n) return 0n;
        const share = fmul(f, kelly);
        return floorDiv(equity * share.n, share.d * reference);
      };
    }
    default:
      throw new InputProblem(`sizer.kind=${JSON.stringify(raw.kind)} is not known`);
  }
}

// --- the timeline ---------------------------------------------------------------------------

function timeKey(timestamp) {
  if (typeof timestamp === "number") return [timestamp, 0];
  // naive ISO strings read as UTC, so their order is the wall-clock order
  const aware = /(Z|[+-]\d{2}:?\d{2})$/.test(timestamp);
  const ms = Date.parse(aware ? timestamp : `${timestamp}Z`);
  if (Number.isNaN(ms)) throw new InputProblem(`timestamp ${JSON.stringify(timestamp)} is not ISO-8601 this engine reads`);
  const micro = /\.\d{3}(\d{1,3})/.exec(timestamp);
  return [ms, micro ? Number(micro[1].padEnd(3, "0")) : 0];
}

function timeline(scenario) {
  const steps = new Map();
  const at = (timestamp) => {
    const key = `${typeof timestamp}:${timestamp}`;
    if (!steps.has(key)) steps.set(key, { timestamp, bars: [], signals: [], cancels: [] });
    return steps.get(key);
  };
  for (const bar of scenario.bars) at(bar.timestamp).bars.push(bar);
  for (const signal of scenario.signals || []) at(signal.timestamp).signals.push(signal);
  for (const cancel of scenario.cancels || []) at(cancel.timestamp).cancels.push(cancel);
  const ordered = [...steps.values()].map((step) => ({ step, key: timeKey(step.timestamp) }));
  ordered.sort((a, b) => a.key[0] - b.key[0] || a.key[1] - b.key[1]);
  for (const { step } of ordered) step.bars.sort((a, b) => (a.symbol < b.symbol ? -1 : a.symbol > b.symbol ? 1 : 0));
  return ordered.map(({ step }) => step);
}

function safeInteger(value, where) {
  if (typeof value === "number" && !Number.isSafeInteger(value)) {
    throw new InputProblem(`${where}=${value} is beyond the integers this engine reads exactly`);
  }
  return value;
}

// --- the engine -------------------------------------------------------------------------------

const TERMINAL = new Set(["FILLED", "CANCELLED", "EXPIRED", "REJECTED"]);

class Engine {
  constructor(scenario, bug, write) {
    this.bug = bug;
    this.write = write;
    this.initialCash = toUnits(scenario.initial_cash, CENTS, "initial_cash");
    this.fillAtOpen = (scenario.fill_at ?? "next_open") === "next_open";
    this.rejectPolicy = (scenario.policy ?? "shrink") === "reject";
    const cap = scenario.max_participation === undefined ? "1" : scenario.max_participation;
    this.cap = cap === null ? null : parseFraction(cap, "max_participation");
    this.costs = new Costs(scenario.costs);
    this.slippage = new Slippage(this.costs, safeInteger(scenario.seed ?? 0, "seed"));
    this.sizer = makeSizer(scenario.sizer);
    this.cash = this.initialCash;
    this.reserved = 0n;
    this.orders = new Map(); // id -> order, in id order
    this.positions = new Map(); // symbol -> {quantity, cost, realized}
    this.marks = new Map();
    this.pendingBuys = new Map();
    this.pendingSells = new Map();
    this.step = 0;
    this.signalsSeen = 0;
    this.cancelsSeen = 0;
    this.events = 0;
  }

  run(steps) {
    for (const step of steps) this.handle(step);
  }

  handle({ timestamp, bars, signals, cancels }) {
    this.step += 1;
    this.bars = new Map(bars.map((bar) => [bar.symbol, {
      open: toUnits(bar.open, TICKS, "bars.open"),
      close: toUnits(bar.close, TICKS, "bars.close"),
      volume: BigInt(safeInteger(bar.volume, "bars.volume")),
    }]));
    if (bars.length) {
      if (this.fillAtOpen) this.fillPhase(timestamp, true);
      const marks = {};
      for (const bar of bars) {
        const close = this.bars.get(bar.symbol).close;
        this.marks.set(bar.symbol, close);
        marks[bar.symbol] = price(close);
      }
      this.emit(timestamp, "MarketUpdated", { marks });
    }
    this.signalEquity = null;
    for (const signal of signals) this.signal(timestamp, signal);
    for (const cancel of cancels) this.cancel(timestamp, cancel);
    if (bars.length && !this.fillAtOpen) this.fillPhase(timestamp, false);
  }

  // --- books ----------------------------------------------------------------------------
  position(symbol) {
    const p = this.positions.get(symbol);
    return p ? p.quantity : 0n;
  }
  equity() {
    let value = this.cash * 100n;
    for (const [symbol, p] of this.positions) if (p.quantity) value += p.quantity * this.marks.get(symbol);
    return value;
  }
  bump(map, symbol, by) {
    map.set(symbol, (map.get(symbol) || 0n) + by);
  }

  // --- signals ----------------------------------------------------------------------------
  signal(timestamp, signal) {
    this.signalsSeen += 1;
    const id = this.signalsSeen;
    const quantity = signal.quantity == null ? null : BigInt(safeInteger(signal.quantity, "signals.quantity"));
    if (signal.side === "BUY") this.buy(timestamp, id, signal, quantity);
    else this.sell(timestamp, id, signal, quantity);
  }

  buy(timestamp, id, signal, quantity) {
    const reference = this.marks.get(signal.symbol);
    if (reference === undefined) return this.reject(timestamp, id, signal, 0n, "NO_PRICE", "no bar seen yet");
    let requested = quantity;
    if (requested === null) {
      const strength = signal.strength == null ? frac(1n) : parseFraction(signal.strength, "signals.strength");
      if (this.signalEquity === null) this.signalEquity = this.equity();
      const target = this.sizer(reference, this.signalEquity, strength);
      const held = this.position(signal.symbol) + (this.pendingBuys.get(signal.symbol) || 0n);
      requested = target - held;
      if (requested <= 0n) {
        const reason = target > 0n ? "TARGET_REACHED" : "ZERO_SIZE";
        return this.reject(timestamp, id, signal, max(requested, 0n), reason, `target ${target} shares, holding or buying ${held}`);
      }
    }
    const limit = this.costs.limitPrice(reference);
    // the deliberate bug: size against all cash and reserve nothing (the seed's race)
    const budget = this.bug === "no-reservation" ? this.cash : this.cash - this.reserved;
    let total = this.costs.buyTotal(requested * limit);
    let size = requested;
    let resized = null;
    if (total > budget) {
      const affordable = this.costs.affordable(budget, limit);
      if (this.rejectPolicy || affordable === 0n) {
        return this.reject(timestamp, id, signal, requested, "INSUFFICIENT_CASH", `${requested} shares need more than the ${money(budget)} available`);
      }
      size = affordable;
      resized = "INSUFFICIENT_CASH";
      total = this.costs.buyTotal(size * limit);
    }
    const reservation = this.bug === "no-reservation" ? 0n : total;
    this.accept(timestamp, id, signal, size, requested, reference, limit, reservation, resized);
  }

  sell(timestamp, id, signal, quantity) {
    const sellable = this.position(signal.symbol) - (this.pendingSells.get(signal.symbol) || 0n);
    const requested = quantity === null ? max(sellable, 0n) : quantity;
    if (sellable <= 0n) {
      return this.reject(timestamp, id, signal, requested, "NOTHING_TO_SELL", "no shares held that are not already pending sale");
    }
    let size = requested;
    let reason = null;
    if (requested > sellable) {
      if (this.rejectPolicy) return this.reject(timestamp, id, signal, requested, "EXCEEDS_POSITION", `only ${sellable} shares can be sold`);
      size = sellable;
      reason = "EXCEEDS_POSITION";
    }
    const reservation = this.costs.sellReserve();
    if (reservation > this.cash - this.reserved) {
      return this.reject(timestamp, id, signal, requested, "CANNOT_COVER_FEE", `the sale needs ${money(reservation)} to cover its commission`);
    }
    const reference = this.marks.get(signal.symbol) || 0n;
    this.accept(timestamp, id, signal, size, requested, reference, 0n, reservation, reason);
  }

  accept(timestamp, id, signal, quantity, requested, reference, limit, reservation, reason) {
    const order = {
      id, symbol: signal.symbol, side: signal.side, quantity, tif: signal.time_in_force || "DAY",
      limit, step: this.step, state: "ACCEPTED", filled: 0n, notional: 0n, cashFlow: 0n,
      reservedInitial: reservation, reserved: reservation, released: 0n,
    };
    this.orders.set(id, order);
    this.reserved += reservation;
    this.bump(order.side === "BUY" ? this.pendingBuys : this.pendingSells, order.symbol, quantity);
    this.emit(timestamp, "OrderAccepted", {
      order_id: id, signal_index: id - 1, symbol: order.symbol, side: order.side,
      quantity: Number(quantity), requested: Number(requested), reference_price: price(reference),
      limit_price: price(limit), reserved: money(reservation), time_in_force: order.tif, reason,
    });
  }

  reject(timestamp, id, signal, requested, reason, detail) {
    this.orders.set(id, {
      id, symbol: signal.symbol, side: signal.side, quantity: requested, tif: signal.time_in_force || "DAY",
      limit: 0n, step: this.step, state: "REJECTED", filled: 0n, notional: 0n, cashFlow: 0n,
      reservedInitial: 0n, reserved: 0n, released: 0n,
    });
    this.emit(timestamp, "OrderRejected", {
      order_id: id, signal_index: id - 1, symbol: signal.symbol, side: signal.side,
      requested: Number(requested), reason, detail,
    });
  }

  // --- cancels ------------------------------------------------------------------------------
  cancel(timestamp, cancel) {
    const index = this.cancelsSeen++;
    const order = this.orders.get(cancel.order_id);
    if (order === undefined) {
      return this.emit(timestamp, "CancelIgnored", { order_id: cancel.order_id, cancel_index: index, reason: "UNKNOWN_ORDER", state: null });
    }
    if (TERMINAL.has(order.state)) {
      return this.emit(timestamp, "CancelIgnored", { order_id: order.id, cancel_index: index, reason: "ALREADY_TERMINAL", state: order.state });
    }
    const released = this.finish(order, "CANCELLED");
    this.emit(timestamp, "OrderCancelled", { order_id: order.id, cancel_index: index, released: money(released) });
  }

  finish(order, state) {
    const released = order.reserved;
    this.reserved -= released;
    order.reserved = 0n;
    order.state = state;
    const remaining = order.quantity - order.filled;
    if (remaining) this.bump(order.side === "BUY" ? this.pendingBuys : this.pendingSells, order.symbol, -remaining);
    return released;
  }

  // --- fills ------------------------------------------------------------------------------------
  fillPhase(timestamp, useOpen) {
    // orders placed in this step wait for the next bar when filling at the open
    const newest = useOpen ? this.step - 1 : this.step;
    const expiring = [];
    for (const order of [...this.orders.values()]) {
      if (TERMINAL.has(order.state)) continue;
      const bar = this.bars.get(order.symbol);
      if (bar === undefined || order.step > newest) continue;
      this.tryFill(timestamp, order, bar, useOpen ? bar.open : bar.close);
      if (order.tif === "DAY" && !TERMINAL.has(order.state)) expiring.push(order);
    }
    for (const order of expiring) {
      const released = this.finish(order, "EXPIRED");
      this.emit(timestamp, "OrderExpired", { order_id: order.id, released: money(released) });
    }
  }

  tryFill(timestamp, order, bar, base) {
    const slip = this.slippage.draw();
    const buying = order.side === "BUY";
    let fillPrice;
    if (buying) {
      fillPrice = slip ? buyPrice(base, slip) : base;
      if (fillPrice > order.limit) return; // never pays more than it reserved for
    } else {
      fillPrice = slip ? sellPrice(base, slip) : base;
    }
    const remaining = order.quantity - order.filled;
    let quantity = remaining;
    if (this.cap !== null) quantity = min(quantity, (bar.volume * this.cap.n) / this.cap.d);
    if (quantity <= 0n) return;
    const before = order.notional;
    const after = before + quantity * fillPrice;
    const completes = quantity === remaining;
    let delta, commission, release;
    if (buying) {
      [delta, commission] = this.costs.buyFill(before, after);
      const partial = this.costs.buyTotal((order.filled + quantity) * order.limit) - this.costs.buyTotal(order.filled * order.limit);
      release = completes ? order.reserved : min(partial, order.reserved);
    } else {
      [delta, commission] = this.costs.sellFill(before, after);
      const used = max(order.released, -this.costs.sellNet(after));
      release = completes ? order.reserved : min(used, order.reservedInitial) - order.released;
    }
    if (this.cash + delta < 0n) {
      this.finish(order, "REJECTED");
      return this.emit(timestamp, "FillRefused", {
        order_id: order.id, symbol: order.symbol, side: order.side, quantity: Number(quantity),
        price: price(fillPrice), needed: money(-delta), cash: money(this.cash),
      });
    }
    this.cash += delta;
    order.reserved -= release;
    order.released += release;
    this.reserved -= release;
    order.filled += quantity;
    order.notional = after;
    order.cashFlow += delta;
    order.state = order.filled === order.quantity ? "FILLED" : "PARTIALLY_FILLED";
    let p = this.positions.get(order.symbol);
    if (p === undefined) this.positions.set(order.symbol, (p = { quantity: 0n, cost: 0n, realized: 0n }));
    if (buying) {
      this.bump(this.pendingBuys, order.symbol, -quantity);
      p.quantity += quantity;
      p.cost += quantity * fillPrice;
    } else {
      this.bump(this.pendingSells, order.symbol, -quantity);
      // average cost; the last share sold takes what rounding left behind
      const removed = quantity >= p.quantity ? p.cost : (p.cost * quantity) / p.quantity;
      p.cost -= removed;
      p.quantity -= quantity;
      p.realized += quantity * fillPrice - removed;
    }
    if (order.state === "FILLED") this.finish(order, "FILLED");
    this.emit(timestamp, "OrderFilled", {
      order_id: order.id, symbol: order.symbol, side: order.side, quantity: Number(quantity),
      price: price(fillPrice), commission: money(commission), cash_delta: money(delta),
      released: money(release), filled_total: Number(order.filled), remaining: Number(order.quantity - order.filled),
    });
  }

  // --- the tape ------------------------------------------------------------------------------------
  emit(timestamp, event, fields) {
    this.events += 1;
    const orders = [];
    for (const o of this.orders.values()) {
      orders.push({
        order_id: o.id, symbol: o.symbol, side: o.side, quantity: Number(o.quantity), filled: Number(o.filled),
        state: o.state, time_in_force: o.tif, reserved: money(o.reserved), reserved_initial: money(o.reservedInitial),
        released: money(o.released), cash_flow: money(o.cashFlow), limit_price: price(o.limit),
      });
    }
    const positions = [];
    for (const [symbol, p] of this.positions) {
      positions.push({ symbol, quantity: Number(p.quantity), cost: price(p.cost), realized_pnl: price(p.realized) });
    }
    const marks = {};
    for (const [symbol, mark] of this.marks) marks[symbol] = price(mark);
    this.write({
      kind: "event", event, timestamp, ...fields,
      after: { cash: money(this.cash), reserved: money(this.reserved), equity: price(this.equity()), orders, positions, marks },
    });
  }
}

// --- the process ----------------------------------------------------------------------------------

function main() {
  const args = process.argv.slice(2);
  let bug = null;
  if (args.length === 2 && args[0] === "--bug" && BUGS.includes(args[1])) bug = args[1];
  else if (args.length) {
    process.stderr.write(`usage: engine.js [--bug ${BUGS.join("|")}]\n`);
    process.exit(2);
  }
  const out = [];
  const write = (line) => out.push(JSON.stringify(line));
  write({ kind: "hello", protocol: PROTOCOL, engine: `cashfuzz-js-example${bug ? ` (bug: ${bug})` : ""}`, reserves_cash: true, reports_equity: true, unsupported: [] });
  const chunks = [];
  process.stdin.on("data", (chunk) => chunks.push(chunk));
  process.stdin.on("end", () => {
    let engine;
    try {
      const scenario = JSON.parse(Buffer.concat(chunks).toString("utf8"));
      if (scenario.format !== undefined && scenario.format !== 1 && scenario.format !== 2) {
        throw new InputProblem(`format=${JSON.stringify(scenario.format)}: this engine reads scenario formats 1 and 2`);
      }
      engine = new Engine(scenario, bug, write);
      engine.run(timeline(scenario));
    } catch (error) {
      if (!(error instanceof InputProblem) && !(error instanceof SyntaxError)) throw error;
      write({ kind: "error", code: error instanceof InputProblem ? "unsupported" : "bad_input", message: error.message });
      process.stdout.write(out.join("\n") + "\n");
      process.exitCode = 2;
      return;
    }
    write({ kind: "end", events: engine.events });
    process.stdout.write(out.join("\n") + "\n");
  });
}

main();
