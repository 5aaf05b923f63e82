import Foundation
import Provisioner

/// HTTP requests made on the host (get_url, uri, keys for apt_key, deb822_repository, rpm_key)
/// through what the host has: curl, GNU wget or python3, in that order. The request travels in
/// environment variables (never in argv, where other users could read a password or a token) and
/// the body on stdin; the response's headers come back in a text block `parse` reads.
enum HTTPFetch {
    enum Tool: String, CaseIterable, Sendable { case curl, wget, python3 }

    /// Which of the tools the host has (wget only when it is GNU wget: busybox's lacks --method).
    static let probe = Observation.command(["/bin/sh", "-c", """
        command -v curl >/dev/null 2>&1 && echo curl
        wget --version 2>/dev/null | grep -q 'GNU Wget' && echo wget
        command -v python3 >/dev/null 2>&1 && echo python3
        exit 0
        """])

    /// The tool to use, nil when the host has none.
    static func tool(_ observed: Observations) -> Tool? {
        let found = Set((observed.command(probe.argv)?.stdout ?? "").split(separator: "\n").map(String.init))
        return Tool.allCases.first { found.contains($0.rawValue) }
    }

    static let missingTools = "the host has none of curl, GNU wget or python3 to make HTTP requests with: install one of them"

    struct Request: Sendable, Equatable {
        var method = "GET"
        var url: String
        var headers: [(name: String, value: String)] = []
        var timeout = 10
        var validateCerts = true
        var followRedirects = true
        /// Credentials sent when the server asks for them (or at once, when `forceBasicAuth`).
        var user: String?
        var password: String?
        var forceBasicAuth = false
        var unixSocket: String?
        var agent = "ansible-httpget"
        var useProxy = true

        static func == (a: Request, b: Request) -> Bool {
            a.environment(hasBody: false) == b.environment(hasBody: false)
        }

        /// The `PV_*` variables `library` reads.
        func environment(hasBody: Bool) -> [String: String] {
            var headers = self.headers
            if forceBasicAuth, let user {
                let token = Data("\(user):\(password ?? "")".utf8).base64EncodedString()
                headers.append(("Authorization", "Basic " + token))
            }
            var env = ["PV_METHOD": method, "PV_URL": url, "PV_TIMEOUT": String(timeout), "PV_VALIDATE": validateCerts ? "1" : "0",
                       "PV_FOLLOW": followRedirects ? "1" : "0", "PV_AGENT": agent, "PV_BODY": hasBody ? "1" : "0",
                       "PV_HEADERS": headers.map { "\($0.name): \($0.value)" }.joined(separator: "\n")]
            if let user, !forceBasicAuth {
                env["PV_USER"] = user
                env["PV_PASSWORD"] = password ?? ""
            }
            if let unixSocket { env["PV_SOCKET"] = unixSocket }
            // Every tool reads the proxy from these, as Ansible's urllib does; use_proxy: false empties them.
            if !useProxy { for name in ["http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY"] { env[name] = "" } }
            return env
        }
    }

    /// Ansible's redirect policies: `safe` and `urllib2` follow for GET and HEAD only.
    static func follows(_ policy: String, method: String) -> Bool {
        switch policy {
        case "all", "yes": return true
        case "none", "no": return false
        default: return method == "GET" || method == "HEAD"
        }
    }

    /// Ends with a line break, so scripts can follow it.
    /// `provision_fetch TOOL BODY OUT META`: makes the request in the `PV_*` variables (BODY: a file
    /// holding the body, or empty), writes the response body to OUT and, to META, `url FINAL-URL` then
    /// the response's status line and headers (every response of a redirect chain). Returns non-zero
    /// with a message on stderr when no response came (refused, timed out, certificate refused).
    static let library = #"""
    provision_fetch() {
      pf_tool=$1 pf_body=$2 pf_out=$3 pf_meta=$4
      : > "$pf_meta.raw"
      case $pf_tool in
      curl)
        pf_cfg=$pf_meta.cfg
        (umask 077; : > "$pf_cfg")
        printf '%s\n' "$PV_HEADERS" | while IFS= read -r pf_h; do
          [ -n "$pf_h" ] && printf 'header = "%s"\n' "$(printf '%s' "$pf_h" | sed 's/[\\"]/\\&/g')"
        done >> "$pf_cfg"
        printf 'user-agent = "%s"\n' "$(printf '%s' "$PV_AGENT" | sed 's/[\\"]/\\&/g')" >> "$pf_cfg"
        if [ -n "${PV_USER+set}" ]; then
          printf 'user = "%s"\nanyauth\n' "$(printf '%s:%s' "$PV_USER" "$PV_PASSWORD" | sed 's/[\\"]/\\&/g')" >> "$pf_cfg"
        fi
        set -- -sS -K "$pf_cfg" -o "$pf_out" -D "$pf_meta.raw" -w '%{url_effective}' \
          --connect-timeout "$PV_TIMEOUT" --speed-limit 1 --speed-time "$PV_TIMEOUT"
        [ "$PV_VALIDATE" = 1 ] || set -- "$@" -k
        [ "$PV_FOLLOW" = 1 ] && set -- "$@" -L --max-redirs 10
        [ -n "${PV_SOCKET:-}" ] && set -- "$@" --unix-socket "$PV_SOCKET"
        case $PV_METHOD in
        GET) ;;
        HEAD) set -- "$@" --head ;;
        POST) [ -n "$pf_body" ] || set -- "$@" -X POST ;;
        *) set -- "$@" -X "$PV_METHOD" ;;
        esac
        [ -n "$pf_body" ] && set -- "$@" --data-binary "@$pf_body"
        pf_url=$(curl "$@" -- "$PV_URL")
        pf_rc=$?
        rm -f "$pf_cfg"
        ;;
      wget)
        pf_cfg=$pf_meta.cfg
        (umask 077; : > "$pf_cfg")
        printf '%s\n' "$PV_HEADERS" | while IFS= read -r pf_h; do [ -n "$pf_h" ] && printf 'header = %s\n' "$pf_h"; done >> "$pf_cfg"
        printf 'user_agent = %s\n' "$PV_AGENT" >> "$pf_cfg"
        [ -n "${PV_USER+set}" ] && printf 'user = %s\npassword = %s\n' "$PV_USER" "$PV_PASSWORD" >> "$pf_cfg"
        [ -n "${PV_SOCKET:-}" ] && { echo "wget cannot talk to a unix socket: install curl or python3" >&2; return 1; }
        set -- -q -S --config="$pf_cfg" -O "$pf_out" --content-on-error --timeout="$PV_TIMEOUT" --method="$PV_METHOD"
        [ "$PV_VALIDATE" = 1 ] || set -- "$@" --no-check-certificate
        if [ "$PV_FOLLOW" = 1 ]; then set -- "$@" --max-redirect=10; else set -- "$@" --max-redirect=0; fi
        [ -n "$pf_body" ] && set -- "$@" --body-file="$pf_body"
        wget "$@" -- "$PV_URL" 2> "$pf_meta.err"
        pf_rc=$?
        sed -n 's/^  //p' "$pf_meta.err" > "$pf_meta.raw"
        grep -v '^  ' "$pf_meta.err" >&2
        rm -f "$pf_cfg" "$pf_meta.err"
        pf_url=
        ;;
      python3)
        pf_url=$(python3 -c "$PROVISION_FETCH_PY" "$pf_body" "$pf_out" "$pf_meta.raw")
        pf_rc=$?
        ;;
      esac
      if ! grep -q '^HTTP/' "$pf_meta.raw"; then
        rm -f "$pf_meta.raw"
        [ "$pf_rc" = 0 ] && echo "no HTTP response from $PV_URL" >&2
        return 1
      fi
      { printf 'url %s\n' "$pf_url"; tr -d '\r' < "$pf_meta.raw"; } > "$pf_meta"
      rm -f "$pf_meta.raw"
    }
    # provision_name META: the file name a response suggests (Content-Disposition of the last
    # response, else the last segment of the final URL's path, else index.html).
    provision_name() {
      pn=$(awk '/^HTTP\//{b=""} {b=b $0 "\n"} END{printf "%s", b}' "$1" \
        | sed -n 's/^[Cc][Oo][Nn][Tt][Ee][Nn][Tt]-[Dd][Ii][Ss][Pp][Oo][Ss][Ii][Tt][Ii][Oo][Nn]:.*[Ff][Ii][Ll][Ee][Nn][Aa][Mm][Ee]= *"\{0,1\}\([^";]*\)"\{0,1\}.*/\1/p' | tail -n 1)
      pn=${pn##*/}
      if [ -z "$pn" ] || [ "$pn" = . ] || [ "$pn" = .. ]; then
        pu=$(sed -n '1s/^url //p' "$1"); pu=${pu:-$PV_URL}
        pn=$(printf '%s\n' "$pu" | sed 's/[?#].*//; s|^[A-Za-z][A-Za-z0-9+.-]*://[^/]*||; s|.*/||')
      fi
      printf '%s\n' "${pn:-index.html}"
    }
    # provision_get URL VALIDATE OUT: a plain GET with the first tool the host has; 0 for a 200,
    # 2 when the host has no tool, 1 otherwise (why on stderr).
    provision_get() {
      PV_METHOD=GET PV_URL=$1 PV_TIMEOUT=10 PV_VALIDATE=$2 PV_FOLLOW=1 PV_AGENT=ansible-httpget PV_BODY=0 PV_HEADERS=
      export PV_METHOD PV_URL PV_TIMEOUT PV_VALIDATE PV_FOLLOW PV_AGENT PV_BODY PV_HEADERS
      if command -v curl > /dev/null 2>&1; then pg=curl
      elif wget --version 2> /dev/null | grep -q 'GNU Wget'; then pg=wget
      elif command -v python3 > /dev/null 2>&1; then pg=python3
      else return 2
      fi
      provision_fetch "$pg" '' "$3" "$3.meta" || return 1
      pg=$(awk '/^HTTP\//{s=$2} END{print s}' "$3.meta"); rm -f "$3.meta"
      [ "$pg" = 200 ] || { echo "HTTP status $pg" >&2; return 1; }
    }
    PROVISION_FETCH_PY='
    import os, socket, ssl, sys, http.client, urllib.error, urllib.request
    body, out, meta = sys.argv[1:4]
    env = os.environ
    class Quiet(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None
    class UnixConnection(http.client.HTTPConnection):
        def connect(self):
            self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            self.sock.settimeout(self.timeout)
            self.sock.connect(env["PV_SOCKET"])
    class UnixHandler(urllib.request.HTTPHandler):
        def http_open(self, req):
            return self.do_open(UnixConnection, req)
    context = ssl.create_default_context()
    if env["PV_VALIDATE"] != "1":
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    handlers = [urllib.request.HTTPSHandler(context=context)]
    if env["PV_FOLLOW"] != "1":
        handlers.append(Quiet())
    if env.get("PV_SOCKET"):
        handlers.append(UnixHandler())
    if "PV_USER" in env:
        passwords = urllib.request.HTTPPasswordMgrWithDefaultRealm()
        passwords.add_password(None, env["PV_URL"], env["PV_USER"], env["PV_PASSWORD"])
        handlers += [urllib.request.HTTPBasicAuthHandler(passwords), urllib.request.HTTPDigestAuthHandler(passwords)]
    opener = urllib.request.build_opener(*handlers)
    data = open(body, "rb").read() if body else None
    request = urllib.request.Request(env["PV_URL"], data=data, method=env["PV_METHOD"])
    request.add_header("User-Agent", env["PV_AGENT"])
    for line in env["PV_HEADERS"].split("\n"):
        if line:
            name, _, value = line.partition(":")
            request.add_header(name.strip(), value.strip())
    try:
        response = opener.open(request, timeout=float(env["PV_TIMEOUT"]))
    except urllib.error.HTTPError as error:
        response = error
    except Exception as error:
        reason = getattr(error, "reason", error)
        sys.stderr.write("%s: %s\n" % (env["PV_URL"], reason))
        sys.exit(1)
    with open(out, "wb") as f:
        while True:
            chunk = response.read(65536)
            if not chunk:
                break
            f.write(chunk)
    with open(meta, "w") as f:
        f.write("HTTP/1.1 %d %s\n" % (response.getcode(), response.reason))
        for name, value in response.headers.items():
            f.write("%s: %s\n" % (name, value))
    sys.stdout.write(response.geturl())
    '

    """#

    /// A GET (or any request) whose body comes back on stdout after `@body`, for small things read
    /// whole (a checksum file, a signing key): `sh -c fetchScript sh TOOL`. Failures print `failure<TAB>why`.
    static let fetchScript = library + #"""
    t=$(mktemp -d "${TMPDIR:-/tmp}/.provision-fetch.XXXXXX") || { printf 'failure\tcannot create a temporary folder\n'; exit 0; }
    trap 'rm -rf "$t"' EXIT
    if ! provision_fetch "$1" '' "$t/body" "$t/meta" 2> "$t/err"; then
      printf 'failure\t%s\n' "$(tr '\n' ' ' < "$t/err")"; exit 0
    fi
    printf '@response\n'; cat "$t/meta"; printf '\n@body\n'; cat "$t/body"
    """#

    /// The step that fetches `request` whole; `read` gets the response and body (or why it failed).
    static func fetchStep(_ summary: String, tool: Tool, request: Request, runsInCheckMode: Bool = true,
                          read: @escaping @Sendable (Result<(Response, String), FetchFailure>, StepRun) -> StepOutcome) -> HostStep {
        HostStep(summary, command: Command(["/bin/sh", "-c", fetchScript, "sh", tool.rawValue], environment: request.environment(hasBody: false)),
                 runsInCheckMode: runsInCheckMode) { run in
            read(fetched(run.output, requested: request.url), run)
        }
    }

    struct FetchFailure: Error { var message: String }

    /// What `fetchScript` printed.
    static func fetched(_ output: CommandOutput, requested: String) -> Result<(Response, String), FetchFailure> {
        let sections = Sections(output.stdout)
        if let failure = sections.fields["failure"] {
            return .failure(FetchFailure(message: "Request failed: \(failure.trimmingCharacters(in: .whitespaces))"))
        }
        guard output.status == 0, let response = parse(sections.meta, requested: requested) else {
            return .failure(FetchFailure(message: "the request to \(masked(requested)) failed on the host: \(output.stderr)"))
        }
        return .success((response, sections.body ?? ""))
    }

    /// A URL as results show it: the password of `user:password@` masked, as Ansible's `mask_url`.
    static func masked(_ url: String) -> String {
        guard var components = URLComponents(string: url), components.password != nil else { return url }
        components.password = "********"
        return components.string ?? url
    }

    /// A response as `library` recorded it.
    struct Response: Equatable, Sendable {
        var status: Int
        var reason: String
        /// The final response's headers, in order.
        var headers: [(name: String, value: String)]
        /// The URL the last response came from (after redirects).
        var url: String
        var redirected: Bool

        static func == (a: Response, b: Response) -> Bool {
            a.status == b.status && a.reason == b.reason && a.url == b.url && a.redirected == b.redirected
                && a.headers.map { "\($0.name): \($0.value)" } == b.headers.map { "\($0.name): \($0.value)" }
        }

        func header(_ name: String) -> String? {
            headers.last { $0.name.lowercased() == name.lowercased() }?.value
        }

        /// Ansible's result fields from headers: lower case, `-` as `_` (`content_type`).
        var headerFields: ValueDict {
            var fields = ValueDict()
            for (name, value) in headers { fields[name.lowercased().replacingOccurrences(of: "-", with: "_")] = .string(value) }
            return fields
        }
    }

    /// The META text: `url U`, then one block per response (`HTTP/x CODE REASON`, `Name: value` lines).
    /// `requested` resolves the final URL where the tool did not say it (wget follows `Location`).
    static func parse(_ meta: String, requested: String) -> Response? {
        var url = "", blocks: [[String]] = []
        for line in meta.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) {
            if blocks.isEmpty, line.hasPrefix("url ") { url = String(line.dropFirst(4)); continue }
            if line.hasPrefix("HTTP/") { blocks.append([line]) } else if !line.isEmpty, !blocks.isEmpty { blocks[blocks.count - 1].append(line) }
        }
        guard let last = blocks.last else { return nil }
        let status = last[0].split(separator: " ", maxSplits: 2)
        guard status.count >= 2, let code = Int(status[1]) else { return nil }
        let headers = last.dropFirst().compactMap { line -> (name: String, value: String)? in
            guard let colon = line.firstIndex(of: ":") else { return nil }
            return (String(line[..<colon]), String(line[line.index(after: colon)...]).trimmingCharacters(in: .whitespaces))
        }
        if url.isEmpty {
            // Walk the chain: each redirect's Location, relative to the URL before it.
            url = requested
            for block in blocks.dropLast() {
                if let location = block.first(where: { $0.lowercased().hasPrefix("location:") }) {
                    let target = String(location.dropFirst("location:".count)).trimmingCharacters(in: .whitespaces)
                    url = URL(string: target, relativeTo: URL(string: url))?.absoluteString ?? target
                }
            }
        }
        return Response(status: code, reason: status.count > 2 ? String(status[2]) : "", headers: headers, url: url,
                        redirected: url != requested)
    }

    /// The sections a module script prints: its own `key<TAB>value` lines, then `@response` and
    /// META, then (when asked for) `@body` and the body to the end.
    struct Sections {
        var fields: [String: String] = [:]
        var meta = ""
        var body: String?

        init(_ stdout: String) {
            var text = Substring(stdout)
            if let range = text.range(of: "\n@body\n") ?? (text.hasPrefix("@body\n") ? text.range(of: "@body\n") : nil) {
                body = String(text[range.upperBound...])
                text = text[..<range.lowerBound]
            }
            let parts = text.components(separatedBy: "@response\n")
            for line in parts[0].split(separator: "\n") {
                let pair = line.split(separator: "\t", maxSplits: 1, omittingEmptySubsequences: false)
                if pair.count == 2 { fields[String(pair[0])] = String(pair[1]) }
            }
            if parts.count > 1 { meta = parts[1...].joined(separator: "@response\n") }
        }
    }

    /// Ansible's `msg` for a response: "OK (N bytes)", or urllib's error for anything but 2xx.
    static func message(_ response: Response, bytes: Int?) -> String {
        let size = bytes.map { "\($0) bytes" } ?? "unknown bytes"
        return (200..<300).contains(response.status) ? "OK (\(size))" : "HTTP Error \(response.status): \(response.reason)"
    }

    /// RFC 1123 date for `If-Modified-Since`, from seconds since the epoch.
    static func httpDate(_ seconds: Double) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss 'GMT'"
        return formatter.string(from: Date(timeIntervalSince1970: seconds))
    }
}

extension HTTPFetch {
    /// A small GET as a read-only observation (a signing key): `sh -c SCRIPT sh URL VALIDATE`, printing
    /// `status<TAB>CODE` and `body<TAB>BASE64`, `failure<TAB>why`, or `notool`. No headers or
    /// credentials: an observation's argv is all it carries.
    static let getScript = library + #"""
    t=$(mktemp -d "${TMPDIR:-/tmp}/.provision-get.XXXXXX") || { printf 'failure\tcannot create a temporary folder\n'; exit 0; }
    trap 'rm -rf "$t"' EXIT
    provision_get "$1" "$2" "$t/body" 2> "$t/err"
    case $? in
      0) printf 'status\t200\nbody\t'; base64 -w 0 < "$t/body"; echo ;;
      2) echo notool ;;
      *) printf 'failure\t%s\n' "$(tr '\n' ' ' < "$t/err")" ;;
    esac
    exit 0
    """#

    static func get(_ url: String, validateCerts: Bool = true) -> Observation {
        .command(["/bin/sh", "-c", getScript, "sh", url, validateCerts ? "1" : "0"])
    }

    /// The body `get` brought, or why there is none.
    static func body(_ observed: Observations, _ url: String, validateCerts: Bool = true) -> Result<[UInt8], FetchFailure> {
        let text = observed.command(get(url, validateCerts: validateCerts).argv)?.stdout ?? ""
        if text.hasPrefix("notool") { return .failure(FetchFailure(message: missingTools)) }
        var fields: [String: String] = [:]
        for line in text.split(separator: "\n") {
            let pair = line.split(separator: "\t", maxSplits: 1, omittingEmptySubsequences: false)
            if pair.count == 2 { fields[String(pair[0])] = String(pair[1]) }
        }
        if let failure = fields["failure"] { return .failure(FetchFailure(message: failure.trimmingCharacters(in: .whitespaces))) }
        guard fields["status"] == "200" else { return .failure(FetchFailure(message: "HTTP status \(fields["status"] ?? "unknown")")) }
        return .success([UInt8](Data(base64Encoded: fields["body"] ?? "") ?? Data()))
    }
}
