/** k6's built-in ws metrics, defined before the run when a script uses k6/ws (thresholds may name them). */
import type { Metric, Registry } from '../metrics/registry.ts';

export type WsMetrics = Record<'sessions' | 'connecting' | 'duration' | 'sent' | 'received' | 'ping', Metric>;

export function defineWsMetrics(r: Registry): WsMetrics {
  return {
    sessions: r.define('ws_sessions', 'counter'),
    connecting: r.define('ws_connecting', 'trend', 'time'),
    duration: r.define('ws_session_duration', 'trend', 'time'),
    sent: r.define('ws_msgs_sent', 'counter'),
    received: r.define('ws_msgs_received', 'counter'),
    ping: r.define('ws_ping', 'trend', 'time'),
  };
}
