// The shared quota's state transitions, as Lua scripts Redis runs atomically. Time is read inside each script with
// TIME (Redis 7 replicates script effects, so no replicate_commands() is needed): machines' clocks never meet, only
// durations cross the wire. Floats travel as strings because Redis truncates Lua numbers to integers in replies.
//
// Per model, under one hash tag (so the layout also works on Redis Cluster), keys in this order (see keys.ts):
//   1 tat:r   2 tat:i   3 tat:l   GCRA theoretical arrival times: requests, images, the learned request rate
//   4 pause   pause-until (ms, Redis time), only ever extended
//   5 leases  ZSET lease → expiry: booked or in-flight attempts; expired ones are dropped before counting
//   6 log     ZSET lease → start: attempts that started in the last two windows (429'd ones removed: they used no quota)
//   7 aimd    HASH limit, cut (last decrease), ss (slow start), dr (drop rate), rate/high/reset/clean/probes/bind/first
//   8 stop    a run-level stop (daily quota, billing) every process of the group sees
//   9 r429    ZSET lease → time of a 429, for `quota status`
//  10 models  (acquire only) the group's set of models, for `quota status`
//
// GCRA (the algorithm of redis-cell; https://brandur.org/rate-limiting) with burst 0: starts are spaced by at least
// window/rate, so no sliding window ever holds more than the rate. acquire() books the earliest slot all limits allow
// and answers how long to wait; the caller confirms the booking when its time comes (pause and stop re-checked).

const COMMON = `
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
end
local function f(x) return string.format('%.3f', x) end
local function num(v, d) if v then return tonumber(v) end return d end
`;

/** ARGV: lease, cost, rpm (0: none), ipm (0: none), ceiling, leaseTtlMs, adaptive (1/0), learn (1/0), windowMs, confirm (1/0), model; KEYS[10]: the group's set of models */
export const ACQUIRE = `${COMMON}
local now = now_ms()
local lease, cost, rpm, ipm = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local ceiling, ttl, adaptive, learn, window = tonumber(ARGV[5]), tonumber(ARGV[6]), ARGV[7] == '1', ARGV[8] == '1', tonumber(ARGV[9])
local stop = redis.call('GET', KEYS[8])
if stop then return {'stop', stop} end
local pause = num(redis.call('GET', KEYS[4]), 0)
if pause > now then return {'wait', f(pause - now)} end
-- The log holds each attempt's slot (its booked time): the moment GCRA spaced it at; the send follows within a
-- timer's lateness.
local function start(slot)
  redis.call('ZADD', KEYS[5], now + ttl, lease)
  redis.call('ZADD', KEYS[6], slot, lease)
  redis.call('ZREMRANGEBYSCORE', KEYS[6], '-inf', now - 2 * window)
  redis.call('PEXPIRE', KEYS[5], math.ceil(ttl + 2 * window))
  redis.call('PEXPIRE', KEYS[6], math.ceil(2 * window))
  if not redis.call('HGET', KEYS[7], 'first') then redis.call('HSET', KEYS[7], 'first', f(now)) end
  redis.call('PEXPIRE', KEYS[7], 86400000)
  redis.call('SADD', KEYS[10], ARGV[11])
  redis.call('PEXPIRE', KEYS[10], 86400000)
  return {'go', '0'}
end
if ARGV[10] == '1' then
  local exp = redis.call('ZSCORE', KEYS[5], lease)
  if exp then
    local slot = tonumber(exp) - ttl
    -- A timer may fire a little early: never start before the slot.
    if slot > now then return {'book', f(slot - now)} end
    return start(slot)
  end
end
redis.call('ZREMRANGEBYSCORE', KEYS[5], '-inf', now)
local limit = ceiling
local learning = adaptive and rpm == 0
if learning then
  limit = math.min(ceiling, math.max(1, math.floor(num(redis.call('HGET', KEYS[7], 'limit'), math.min(ceiling, 4)) + 1e-9)))
end
if redis.call('ZCARD', KEYS[5]) >= limit then return {'full', tostring(limit)} end
-- The learned rate is probed upwards after a whole clean window in which it held the group back.
local lrate = 0
if rpm == 0 and learn then
  local a = redis.call('HMGET', KEYS[7], 'rate', 'bind', 'clean', 'probes', 'high')
  lrate = num(a[1], 0)
  if lrate > 0 and a[2] == '1' and now - num(a[3], 0) >= window then
    local probes = num(a[4], 0)
    local factors = {1.25, 1.5, 2}
    local nr = lrate * factors[math.min(probes + 1, 3)]
    if probes == 0 then nr = math.max(nr, num(a[5], 0)) end
    local interval_old, interval_new = 60000 / lrate, 60000 / nr
    local tat = num(redis.call('GET', KEYS[3]), now)
    if tat > now then redis.call('SET', KEYS[3], f(now + (tat - now) / interval_old * interval_new), 'PX', math.ceil(2 * window)) end
    lrate = nr
    redis.call('HSET', KEYS[7], 'rate', f(nr), 'probes', probes + 1, 'bind', '0', 'clean', f(now))
  end
end
local at, binding = now, 0
local limits = { {KEYS[1], rpm, 1}, {KEYS[2], ipm, cost}, {KEYS[3], lrate, 1} }
for i, l in ipairs(limits) do
  if l[2] > 0 then
    local t = num(redis.call('GET', l[1]), now)
    if t > at then at = t; binding = i end
  end
end
for _, l in ipairs(limits) do
  if l[2] > 0 then
    local t = math.max(num(redis.call('GET', l[1]), at), at) + l[3] * 60000 / l[2]
    redis.call('SET', l[1], f(t), 'PX', math.ceil(t - now + window))
  end
end
if binding == 3 then redis.call('HSET', KEYS[7], 'bind', '1') end
if at <= now then return start(now) end
redis.call('ZADD', KEYS[5], at + ttl, lease)
return {'book', f(at - now)}
`;

/**
 * ARGV: lease, kind ('ok' | 'drop' | 'other' | 'cancel'), quota429 (1/0), pauseMs (0: none), learnRetryMs (-1: none),
 * stopMessage ('' : none), stopTtlMs, adaptive (1/0), ceiling, windowMs, dropTolerance, dropCountTolerance
 */
export const RELEASE = `${COMMON}
local now = now_ms()
local lease, kind, q429, pause_ms, learn_ms = ARGV[1], ARGV[2], ARGV[3] == '1', tonumber(ARGV[4]), tonumber(ARGV[5])
local adaptive, ceiling, window, tolerance, count_tolerance = ARGV[8] == '1', tonumber(ARGV[9]), tonumber(ARGV[10]), tonumber(ARGV[11]), tonumber(ARGV[12])
local started = num(redis.call('ZSCORE', KEYS[6], lease), nil)
redis.call('ZREM', KEYS[5], lease)
if kind == 'cancel' then return 0 end
if q429 then
  redis.call('ZREM', KEYS[6], lease)
  redis.call('ZADD', KEYS[9], now, lease)
  redis.call('ZREMRANGEBYSCORE', KEYS[9], '-inf', now - window)
  redis.call('PEXPIRE', KEYS[9], math.ceil(2 * window))
end
if pause_ms > 0 then
  local untilms = now + pause_ms
  if untilms > num(redis.call('GET', KEYS[4]), 0) then
    redis.call('SET', KEYS[4], f(untilms), 'PX', math.ceil(pause_ms) + 1000)
    -- Bookings made from now on go after the pause: the window the server named starts afresh then.
    for i = 1, 3 do
      local t = redis.call('GET', KEYS[i])
      if t and tonumber(t) < untilms then redis.call('SET', KEYS[i], f(untilms), 'PX', math.ceil(pause_ms + window)) end
    end
  end
end
if ARGV[6] ~= '' then redis.call('SET', KEYS[8], ARGV[6], 'PX', tonumber(ARGV[7])) end
if adaptive and kind ~= 'other' then
  local a = redis.call('HMGET', KEYS[7], 'limit', 'cut', 'ss', 'dr', 'dt', 'at')
  local limit, cut, ss, dr = num(a[1], math.min(ceiling, 4)), num(a[2], 0), a[3] ~= '0', num(a[4], 0)
  local dropped = kind == 'drop'
  -- The rule of scheduler/adaptive.ts: drops weighed by the slot time they held (a fast, unbilled refusal costs
  -- little), and by their count, so that fast refusals cannot storm.
  local n = math.max(10, 2 * math.floor(limit))
  local ms = math.max(1, started and (now - started) or 1)
  dr = dr + ((dropped and 1 or 0) - dr) / n
  local dt = num(a[5], 0) * (1 - 1 / n) + (dropped and ms or 0)
  local at = num(a[6], 0) * (1 - 1 / n) + ms
  if dropped then
    local congested = tolerance == 0 or dr > count_tolerance or (at - dt > 0 and dt / at > tolerance)
    -- One congestion event cuts the group once: only attempts that started after the last cut may cut again.
    if congested and started and started >= cut then
      limit = math.max(1, limit * 0.7); cut = now; ss = false
    end
  elseif (redis.call('ZCARD', KEYS[5]) + 1) * 2 >= math.floor(limit) then
    if ss then limit = limit + 1 else limit = limit + 1 / math.floor(limit) end
    limit = math.min(limit, ceiling)
  end
  redis.call('HSET', KEYS[7], 'limit', f(limit), 'cut', f(cut), 'ss', ss and '1' or '0', 'dr', f(dr), 'dt', f(dt), 'at', f(at))
end
-- A per-minute 429 dates its window from RetryInfo; what the group had started in it is the quota (see learn.ts).
if learn_ms >= 0 and started then
  local a = redis.call('HMGET', KEYS[7], 'reset', 'first', 'high', 'clean')
  local reset = started + learn_ms
  redis.call('HSET', KEYS[7], 'clean', f(math.max(num(a[4], 0), now + learn_ms)), 'probes', 0, 'bind', '0')
  local from = reset - window
  if math.abs(reset - num(a[1], -1e18)) >= window / 2 and from >= num(a[2], now) - window * 0.02 then
    local accepted = redis.call('ZCOUNT', KEYS[6], f(from), '(' .. f(started))
    if accepted >= 1 then
      local rate = accepted * 60000 / window
      redis.call('HSET', KEYS[7], 'rate', f(rate), 'high', f(math.max(rate, num(a[3], 0))), 'reset', f(reset))
    end
  end
end
redis.call('PEXPIRE', KEYS[7], 86400000)
return 1
`;
