/**
 * Where a tenant's notifications go (`notifications:` in `.github/jitsudo.yml`), and which
 * webhook URLs are acceptable. Pure.
 *
 * SSRF: a tenant config is written by anyone who can merge to the access repository, and the
 * worker POSTs to whatever URL it names, from inside the operator's network. What we chose:
 * - https only, so plain-http internal services (cloud metadata at 169.254.169.254, admin ports,
 *   most sidecars) are out of reach; http is allowed for loopback hosts only, for tests and a
 *   local relay;
 * - no IP literal in private, link-local, CGNAT or unspecified ranges (10/8, 172.16/12,
 *   192.168/16, 169.254/16, 100.64/10, 0/8, fc00::/7, fe80::/10, ::), and no credentials in the URL;
 * - redirects are never followed (see webhook.ts), the body is our fixed JSON and the receiver's
 *   answer is never shown to the tenant.
 * What it does not stop: an https host name whose DNS resolves to a private address. Operators
 * who need that closed should restrict the worker's egress (a NetworkPolicy or an egress proxy).
 */

export interface NotificationChannels {
  slack?: { channel: string };
  webhooks: { url: string }[];
}

export type ChannelKind = "slack" | "webhook";
export const CHANNEL_KINDS: readonly ChannelKind[] = ["slack", "webhook"];

export interface Channel {
  kind: ChannelKind;
  /** The Slack channel (`#access` or an id) or the webhook URL. */
  target: string;
  /** `kind:target`: the key deliveries are ordered and deduplicated by. */
  key: string;
}

/** The channels a tenant's config names, each once. */
export function channelsOf(config: NotificationChannels | undefined): Channel[] {
  if (!config) return [];
  const channels: Channel[] = [];
  if (config.slack) channels.push(channel("slack", config.slack.channel));
  for (const { url } of config.webhooks) channels.push(channel("webhook", url));
  return [...new Map(channels.map((each) => [each.key, each])).values()];
}

function channel(kind: ChannelKind, target: string): Channel {
  return { kind, target, key: `${kind}:${target}` };
}

const LOOPBACK_NAMES = new Set(["localhost", "localhost.", "[::1]"]);

export interface WebhookUrlRules {
  /**
   * This host's own addresses (localhost, 127/8, ::1), over http too: only for tests and a local
   * relay the operator runs (JITSUDO_WEBHOOK_ALLOW_LOOPBACK). Otherwise refused like any private
   * address: a tenant config must not make the worker POST to sidecars on its own host (an Envoy
   * or istio-agent admin port answers /quitquitquit on loopback). URL parsing has already turned
   * http://2130706433 and http://0x7f.1 into 127.0.0.1, so they are caught here.
   */
  allowLoopback?: boolean;
}

/** Why a webhook URL is refused, or undefined when it may be used. */
export function webhookUrlProblem(text: string, rules: WebhookUrlRules = {}): string | undefined {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return "is not a URL";
  }
  if (url.username || url.password) return "must not carry credentials (user:password@)";
  const host = url.hostname.toLowerCase();
  const loopback = LOOPBACK_NAMES.has(host) || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
  if (loopback && !rules.allowLoopback)
    return "must not point at this host (localhost, 127.0.0.0/8, ::1; allowed only with JITSUDO_WEBHOOK_ALLOW_LOOPBACK, for tests)";
  if (url.protocol === "http:") return loopback ? undefined : "must be https (http is allowed only for localhost)";
  if (url.protocol !== "https:") return "must be an https:// URL";
  if (!loopback && isPrivateAddress(host)) return "must not point at a private, link-local or unspecified address";
  return undefined;
}

/** Whether an IP literal (hostname as URL parses it) is in a range that is not the public internet. */
export function isPrivateAddress(host: string): boolean {
  const v4 = /^(\d{1,3})\.(\d{1,3})\.\d{1,3}\.\d{1,3}$/.exec(host);
  if (v4) {
    const [a, b] = [Number(v4[1]), Number(v4[2])];
    return (
      a === 0 ||
      a >= 224 || // multicast and reserved
      (a === 198 && (b === 18 || b === 19)) || // benchmarking
      (a === 192 && b === 0) || // IETF protocol assignments (192.0.0/24 and 192.0.2/24 documentation)
      a === 10 ||
      a === 127 ||
      (a === 169 && b === 254) ||
      (a === 172 && b >= 16 && b <= 31) ||
      (a === 192 && b === 168) ||
      (a === 100 && b >= 64 && b <= 127)
    );
  }
  if (host.startsWith("[") && host.endsWith("]")) {
    const v6 = host.slice(1, -1);
    // ::ffff:10.0.0.1 and friends are IPv4 in disguise: URL normalises them to ::ffff:a00:1.
    // Anything from "::" (unspecified, loopback, IPv4-compatible ::a00:1, ::ffff: mapped), unique
    // local fc00::/7, link-local fe80::/10, multicast ff00::/8, NAT64 64:ff9b::/96 and 6to4
    // 2002::/16 (both carry an IPv4 address, perhaps a private one).
    return v6.startsWith("::") || /^f[cdf]/.test(v6) || /^fe[89ab]/.test(v6) || v6.startsWith("64:ff9b:") || v6.startsWith("2002:");
  }
  return false;
}
