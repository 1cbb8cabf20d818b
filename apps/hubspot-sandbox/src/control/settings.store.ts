import { APP_CONFIG } from '@inbox-bridge/service-kit';
import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import type { Socket } from 'node:net';
import type { SandboxConfig } from '../config/sandbox.config.js';
import type {
  CallLogSettings,
  FaultRule,
  InjectedFault,
  RateLimitSettings,
  RecordedCall,
  SandboxSettings,
} from './control.types.js';

/** Hold time of a timeout fault without `holdMs`. */
export const DEFAULT_FAULT_HOLD_MS = 30_000;

/** What a matching fault rule does to one request. */
export interface FaultDecision {
  readonly latencyMs: number;
  readonly fault?: InjectedFault;
  /** The answer of fault `error`. */
  readonly status: number;
  /** How long fault `timeout` holds the socket, and fault `late-answer` the answer. */
  readonly holdMs: number;
}

/** Runtime knobs (start from config, changed through the control API) and the per-portal call log. */
@Injectable()
export class SettingsStore implements OnModuleDestroy {
  rateLimit!: RateLimitSettings;
  /** The CRM Search API's own limit: 5 requests per second per portal and app (§6.1). */
  searchRateLimit!: RateLimitSettings;
  private faultRules: FaultRule[] = [];
  /** How often each rule has applied (for `times`). */
  private faultUses = new Map<FaultRule, number>();
  /** Sockets held by timeout faults, with the timer that destroys them. */
  private readonly held = new Map<Socket, NodeJS.Timeout>();
  webhookTimeScale!: number;
  /** Largest file `POST /files/v3/files` accepts (the reference names no limit; an assumption). */
  maxUploadBytes!: number;
  private calls: RecordedCall[] = [];
  /** Oldest calls are dropped beyond `max`; 0 records nothing (low-overhead benchmarks). */
  callLog!: CallLogSettings;

  constructor(@Inject(APP_CONFIG) private readonly config: SandboxConfig) {
    this.reset();
  }

  get faults(): FaultRule[] {
    return this.faultRules;
  }

  /** Replaces the rules; their `times` counters start again. */
  set faults(rules: FaultRule[]) {
    this.faultRules = rules;
    this.faultUses = new Map();
  }

  /**
   * The first matching rule that is not used up decides: its latency and at most one fault (drop, timeout,
   * error, lost answer, late answer, each drawn with its probability). A rule counts as used when it delays or
   * fails the request.
   */
  decideFault(method: string, path: string): FaultDecision | undefined {
    const rule = this.faultRules.find(
      (candidate) =>
        (candidate.method === undefined || candidate.method.toUpperCase() === method) &&
        path.startsWith(candidate.pathPrefix) &&
        (candidate.times === undefined || (this.faultUses.get(candidate) ?? 0) < candidate.times),
    );
    if (rule === undefined) {
      return undefined;
    }
    const fault = FAULT_ORDER.find(([, rate]) => draw(rule[rate]))?.[0];
    const latencyMs = rule.latencyMs ?? 0;
    if (fault === undefined && latencyMs === 0) {
      return undefined;
    }
    this.faultUses.set(rule, (this.faultUses.get(rule) ?? 0) + 1);
    return {
      latencyMs,
      ...(fault === undefined ? {} : { fault }),
      status: rule.status ?? 500,
      holdMs: rule.holdMs ?? DEFAULT_FAULT_HOLD_MS,
    };
  }

  /**
   * Holds `socket` without answering for `holdMs`, then runs `afterHold` (by default: destroys it); reset and
   * app close destroy it earlier.
   */
  hold(socket: Socket, holdMs: number, afterHold: () => void = () => socket.destroy()): void {
    const timer = setTimeout(() => {
      this.held.delete(socket);
      afterHold();
    }, holdMs);
    timer.unref();
    this.held.set(socket, timer);
    socket.once('close', () => {
      clearTimeout(timer);
      this.held.delete(socket);
    });
  }

  snapshot(): SandboxSettings {
    return {
      rateLimit: this.rateLimit,
      searchRateLimit: this.searchRateLimit,
      faults: this.faults,
      webhooks: { timeScale: this.webhookTimeScale },
      files: { maxUploadBytes: this.maxUploadBytes },
      callLog: this.callLog,
    };
  }

  get recordsCalls(): boolean {
    return this.callLog.max > 0;
  }

  record(call: RecordedCall): void {
    if (this.callLog.max === 0) {
      return;
    }
    this.calls.push(call);
    // Drop in chunks so a full log costs amortised O(1) per call.
    if (this.calls.length > this.callLog.max * 1.25) {
      this.calls = this.calls.slice(-this.callLog.max);
    }
  }

  setCallLog(max: number, bodies: boolean): void {
    this.callLog = { max, bodies };
    this.calls = [];
  }

  private trimmed(): RecordedCall[] {
    return this.calls.slice(-this.callLog.max);
  }

  callsOf(portalId: number): RecordedCall[] {
    return this.trimmed().filter((call) => call.portalId === portalId);
  }

  allCalls(): RecordedCall[] {
    return this.trimmed();
  }

  reset(): void {
    this.rateLimit = {
      max: this.config.SANDBOX_RATE_LIMIT_MAX,
      intervalMs: this.config.SANDBOX_RATE_LIMIT_INTERVAL_MS,
    };
    this.searchRateLimit = { max: 5, intervalMs: 1000 };
    this.faults = [];
    this.releaseHeld();
    this.webhookTimeScale = this.config.SANDBOX_WEBHOOK_TIME_SCALE;
    this.maxUploadBytes = this.config.SANDBOX_FILE_MAX_BYTES;
    this.setCallLog(this.config.SANDBOX_CALL_LOG_MAX, this.config.SANDBOX_CALL_LOG_BODIES);
  }

  /** Runs before the HTTP server closes, so held sockets do not keep it open. */
  onModuleDestroy(): void {
    this.releaseHeld();
  }

  private releaseHeld(): void {
    for (const [socket, timer] of this.held) {
      clearTimeout(timer);
      socket.destroy();
    }
    this.held.clear();
  }
}

/** The faults a rule can draw, in the order they are drawn, with the rule's field holding each one's probability. */
const FAULT_ORDER: readonly (readonly [InjectedFault, keyof FaultRule & `${string}Rate`])[] = [
  ['drop', 'dropRate'],
  ['timeout', 'timeoutRate'],
  ['error', 'errorRate'],
  ['lost-answer', 'lostAnswerRate'],
  ['late-answer', 'lateAnswerRate'],
];

function draw(rate: number | undefined): boolean {
  return rate !== undefined && rate > 0 && Math.random() < rate;
}
