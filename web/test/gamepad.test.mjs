// Unit tests for the gamepad poller: fake navigator.getGamepads() results in, js verbs out.
import test from 'node:test';
import assert from 'node:assert/strict';
import {
  GamepadPoller, DEAD_ZONE, HEARTBEAT_MS, RESYNC_AFTER_MS, MAX_PADS,
  axisValue, buttonValue, base64Utf8, wireValue,
} from '../gamepad.js';

/** A standard-mapping pad: 4 axes, 17 buttons, all at rest. */
function fakePad(index, id = 'Xbox 360 Controller (XInput STANDARD GAMEPAD)') {
  return {
    index,
    id,
    connected: true,
    mapping: 'standard',
    axes: [0, 0, 0, 0],
    buttons: Array.from({ length: 17 }, () => ({ pressed: false, touched: false, value: 0 })),
  };
}

function press(pad, i, value = 1) {
  pad.buttons[i] = { pressed: value > 0, touched: value > 0, value };
}

/** A poller on a fake clock and gamepad list; `sent` collects the verbs. */
function harness() {
  const sent = [];
  const env = { pads: [], t: 0 };
  const poller = new GamepadPoller((text) => sent.push(text), {
    getGamepads: () => env.pads,
    now: () => env.t,
    requestFrame: () => 1,
    cancelFrame: () => {},
  });
  const step = (ms = 16) => {
    env.t += ms;
    poller.poll();
    return sent.splice(0);
  };
  return { poller, env, sent, step };
}

test('value helpers', () => {
  assert.equal(wireValue(0.123456, -1, 1), 0.1235);
  assert.equal(wireValue(-0.00001, -1, 1), 0);
  assert.equal(Object.is(wireValue(-0.00001, -1, 1), -0), false);
  assert.equal(wireValue(1.7, -1, 1), 1);
  assert.equal(wireValue(NaN, -1, 1), 0);
  assert.equal(axisValue(DEAD_ZONE - 0.001), 0);
  assert.equal(axisValue(-DEAD_ZONE), -DEAD_ZONE);
  assert.equal(buttonValue({ pressed: true, value: 0 }), 1, 'digital button without a value');
  assert.equal(buttonValue({ pressed: false, value: 0.25 }), 0.25);
  assert.equal(buttonValue(1), 1, 'old browsers report numbers');
  assert.equal(buttonValue(undefined), 0);
  assert.equal(base64Utf8('Pad é'), Buffer.from('Pad é', 'utf8').toString('base64'));
  assert.equal(String(wireValue(0.0001, -1, 1)), '0.0001', 'no exponent notation');
});

test('a new pad is announced, then only its changes are sent', () => {
  const { env, step } = harness();
  assert.deepEqual(step(), []);
  const pad = fakePad(0);
  press(pad, 3);
  pad.axes[1] = -0.5;
  env.pads = [pad];
  assert.deepEqual(step(), [
    `js,c,0,${Buffer.from(pad.id).toString('base64')},4,17`,
    'js,b,0,3,1',
    'js,a,0,1,-0.5',
  ]);
  assert.deepEqual(step(), [], 'nothing changed');
  press(pad, 7, 0.42);
  pad.axes[2] = 0.75;
  assert.deepEqual(step(), ['js,b,0,7,0.42', 'js,a,0,2,0.75']);
  press(pad, 3, 0);
  pad.axes[1] = 0;
  assert.deepEqual(step(), ['js,b,0,3,0', 'js,a,0,1,0']);
});

test('the dead zone hides stick drift', () => {
  const { env, step } = harness();
  const pad = fakePad(0);
  env.pads = [pad];
  step();
  pad.axes[0] = 0.04;
  assert.deepEqual(step(), []);
  pad.axes[0] = 0.06;
  assert.deepEqual(step(), ['js,a,0,0,0.06']);
  pad.axes[0] = -0.03;
  assert.deepEqual(step(), ['js,a,0,0,0']);
  pad.axes[0] = 1.5;
  assert.deepEqual(step(), ['js,a,0,0,1'], 'clamped to what the server accepts');
});

test('two pads, disconnect and reconnect', () => {
  const { env, step } = harness();
  const a = fakePad(0, 'A');
  const b = fakePad(1, 'B');
  env.pads = [a, b];
  assert.deepEqual(step(), ['js,c,0,QQ==,4,17', 'js,c,1,Qg==,4,17']);
  press(b, 0);
  assert.deepEqual(step(), ['js,b,1,0,1']);
  env.pads = [a, null]; // Chrome leaves holes
  assert.deepEqual(step(), ['js,d,1']);
  const c = fakePad(1, 'C');
  press(c, 1);
  env.pads = [a, c];
  assert.deepEqual(step(), ['js,c,1,Qw==,4,17', 'js,b,1,1,1']);
  env.pads = [a, { ...fakePad(1, 'D') }];
  assert.deepEqual(step(), ['js,d,1', 'js,c,1,RA==,4,17'], 'a different pad at the same index');
});

test('browser indices beyond the slots take a free slot, and extra pads wait', () => {
  const { env, step } = harness();
  env.pads = [fakePad(0, 'a'), null, null, null, null, null, fakePad(6, 'g')];
  assert.deepEqual(step(), ['js,c,0,YQ==,4,17', 'js,c,1,Zw==,4,17']);
  env.pads = Array.from({ length: MAX_PADS + 1 }, (_, i) => fakePad(i, i === 0 ? 'a' : String(i)));
  assert.deepEqual(step(), ['js,d,1', 'js,c,1,MQ==,4,17', 'js,c,2,Mg==,4,17', 'js,c,3,Mw==,4,17'],
    'pad 0 stays, pad 6 left, the fifth pad gets no slot');
});

test('heartbeats every second while polling', () => {
  const { env, step } = harness();
  env.pads = [fakePad(2)];
  step();
  assert.deepEqual(step(HEARTBEAT_MS - 20), []);
  assert.deepEqual(step(20), ['js,h,2']);
  assert.deepEqual(step(500), []);
  assert.deepEqual(step(500), ['js,h,2']);
});

test('after a pause (hidden tab) pads are announced again with their state', () => {
  const { env, step } = harness();
  const pad = fakePad(0, 'P');
  env.pads = [pad];
  step();
  press(pad, 0);
  assert.deepEqual(step(), ['js,b,0,0,1']);
  assert.deepEqual(step(RESYNC_AFTER_MS), ['js,c,0,UA==,4,17', 'js,b,0,0,1']);
});

test('start polls on animation frames; stop detaches', () => {
  const frames = [];
  const sent = [];
  let requested = 0;
  let cancelled = null;
  const pads = [fakePad(3, 'Z')];
  const poller = new GamepadPoller((t) => sent.push(t), {
    getGamepads: () => pads,
    now: () => 0,
    requestFrame: (cb) => { frames.push(cb); return ++requested; },
    cancelFrame: (id) => { cancelled = id; },
  });
  poller.start();
  poller.start();
  assert.equal(frames.length, 1, 'one loop');
  frames.shift()();
  assert.deepEqual(sent.splice(0), ['js,c,3,Wg==,4,17']);
  assert.equal(frames.length, 1, 'next frame requested');
  assert.deepEqual(poller.connected(), [{ slot: 3, id: 'Z' }]);
  poller.stop();
  assert.equal(cancelled, 2);
  assert.deepEqual(sent, ['js,d,3']);
  assert.deepEqual(poller.connected(), []);
});

test('a browser that forbids gamepads sends nothing', () => {
  const sent = [];
  const poller = new GamepadPoller((t) => sent.push(t), {
    getGamepads: () => { throw new Error('SecurityError'); },
    now: () => 0,
  });
  poller.poll();
  assert.deepEqual(sent, []);
});
