import Foundation
import Provisioner

/// Ansible's `wait_for`: waits on the host until a TCP port answers (or stops answering, or has no
/// active connections left), a path exists (holding `search_regex`) or is gone, or simply for
/// `timeout` seconds. The check is a read-only probe: when nothing changed since the play's one
/// observation round trip and the condition already holds, there is no wait at all; otherwise the
/// engine repeats the probe every `sleep` seconds until it holds or `timeout` has passed.
/// Like Ansible's, it does not run in check mode.
struct WaitForModule: Module {
    static let name = "wait_for"
    static let summary = "Wait for a port, a file, a file's content, or a number of seconds"
    static let supportsCheckMode = false
    static let arguments: [ArgumentSpec] = [
        ArgumentSpec("host", .string, default: "127.0.0.1", doc: "host to connect to (resolved on the managed host)"),
        ArgumentSpec("port", .port, doc: "TCP port to wait for"),
        ArgumentSpec("path", .path, doc: "file to wait for (exists, or holds search_regex)"),
        ArgumentSpec("search_regex", .string, doc: "Python regular expression the file or what the port sends must match"),
        ArgumentSpec("state", .string, default: "started", choices: ["absent", "drained", "present", "started", "stopped"],
                     doc: "started/present: answers or exists; stopped/absent: no longer; drained: no active connections on the port"),
        ArgumentSpec("timeout", .int, default: 300, doc: "seconds to wait at most (the delay counts in it)"),
        ArgumentSpec("delay", .int, default: 0, doc: "seconds to wait before the first check"),
        ArgumentSpec("connect_timeout", .int, default: 5, doc: "seconds one connection attempt may take"),
        ArgumentSpec("sleep", .int, default: 1, doc: "seconds between checks"),
        ArgumentSpec("msg", .string, doc: "message instead of the default one on timeout"),
        ArgumentSpec("exclude_hosts", .list, doc: "with drained: remote addresses whose connections do not count"),
        ArgumentSpec("active_connection_states", .list,
                     default: ["ESTABLISHED", "FIN_WAIT1", "FIN_WAIT2", "SYN_RECV", "SYN_SENT", "TIME_WAIT"],
                     doc: "with drained: TCP states that count as active"),
    ]

    /// /proc/net/tcp's state numbers.
    static let tcpStates = ["ESTABLISHED": "01", "SYN_SENT": "02", "SYN_RECV": "03", "FIN_WAIT1": "04", "FIN_WAIT2": "05",
                            "TIME_WAIT": "06", "CLOSE": "07", "CLOSE_WAIT": "08", "LAST_ACK": "09", "LISTEN": "0A", "CLOSING": "0B"]

    let host: String
    let port: Int?
    let path: String?
    let regex: PythonRegex?
    let state: String
    let timeout: Int
    let delay: Int
    let connectTimeout: Int
    let interval: Int
    let message: String?
    let excluded: [String]
    let activeStates: Set<String>

    init(_ arguments: ModuleArguments) throws {
        host = arguments.string("host") ?? "127.0.0.1"
        port = arguments.int("port")
        path = arguments.string("path")
        state = arguments.string("state") ?? "started"
        timeout = arguments.int("timeout") ?? 300
        delay = arguments.int("delay") ?? 0
        connectTimeout = arguments.int("connect_timeout") ?? 5
        interval = arguments.int("sleep") ?? 1
        message = arguments.string("msg")
        excluded = arguments.strings("exclude_hosts") ?? []
        do {
            regex = try arguments.string("search_regex").map { try PythonRegex($0, argument: "search_regex", multiline: true) }
        } catch let error as ModuleError {
            throw ModuleError("Invalid regular expression: \(error.message)", argument: "search_regex")
        }
        var states = Set<String>()
        for name in arguments.strings("active_connection_states") ?? [] {
            guard let number = WaitForModule.tcpStates[name.uppercased()] else {
                throw ModuleError("unknown active_connection_state (\(name)) defined", argument: "active_connection_states")
            }
            states.insert(number)
        }
        activeStates = states
        if port != nil && path != nil { throw ModuleError("port and path parameter can not both be passed to wait_for", argument: "path") }
        if path != nil && state == "stopped" {
            throw ModuleError("state=stopped should only be used for checking a port in the wait_for module", argument: "state")
        }
        if path != nil && state == "drained" {
            throw ModuleError("state=drained should only be used for checking a port in the wait_for module", argument: "state")
        }
        if arguments["exclude_hosts"] != nil && state != "drained" {
            throw ModuleError("exclude_hosts should only be with state=drained", argument: "exclude_hosts")
        }
        if state == "drained" && port == nil { throw ModuleError("state=drained needs a port", argument: "port") }
        if regex != nil && (state == "absent" || state == "stopped") {
            throw ModuleError("search_regex applies to state started or present only", argument: "search_regex")
        }
        for (name, value) in [("timeout", timeout), ("delay", delay), ("sleep", interval), ("connect_timeout", connectTimeout)] where value < 0 {
            throw ModuleError("\(name) must not be negative", argument: name)
        }
    }

    // MARK: The probe

    /// Prints `open`/`closed` (then, asked to, what the port sent within a second of silence),
    /// or `none` when the host has no way to open a TCP connection.
    static let portScript = #"""
    host=$1 port=$2 wait=$3 read=$4
    if command -v python3 >/dev/null 2>&1; then
      exec python3 -c '
    import socket, sys, time
    host, port, wait, read = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), sys.argv[4] == "1"
    try:
        s = socket.create_connection((host, port), wait)
    except Exception:
        print("closed")
        sys.exit(0)
    sys.stdout.write("open\n")
    if read:
        s.settimeout(1)
        data, end = b"", time.time() + wait
        while time.time() < end:
            try:
                chunk = s.recv(4096)
            except socket.timeout:
                break
            if not chunk:
                break
            data += chunk
        sys.stdout.flush()
        sys.stdout.buffer.write(data)
    s.close()
    ' "$@"
    fi
    if command -v bash >/dev/null 2>&1 && command -v timeout >/dev/null 2>&1; then
      timeout "$wait" bash -c 'exec 3<>"/dev/tcp/$1/$2" || exit 1; echo open; [ "$3" = 1 ] && timeout 1 cat <&3; exit 0' \
        sh "$host" "$port" "$read" 2>/dev/null || echo closed
      exit 0
    fi
    if command -v nc >/dev/null 2>&1; then
      if nc -z -w "$wait" "$host" "$port" 2>/dev/null; then
        echo open; [ "$read" = 1 ] && nc -w 1 "$host" "$port" < /dev/null 2>/dev/null
      else echo closed; fi
      exit 0
    fi
    echo none
    """#

    /// `present` or `absent` for a path (links followed), then its content when asked for.
    static let pathScript = #"if [ -e "$1" ]; then echo present; [ "$2" = 1 ] && cat -- "$1"; else echo absent; fi; exit 0"#

    var probe: Command? {
        if state == "drained" { return Command(["cat", "/proc/net/tcp", "/proc/net/tcp6"]) }
        if let port {
            return Command(["/bin/sh", "-c", WaitForModule.portScript, "sh", host, String(port), String(max(connectTimeout, 1)),
                            regex == nil ? "0" : "1"])
        }
        if let path { return Command(["/bin/sh", "-c", WaitForModule.pathScript, "sh", path, regex == nil ? "0" : "1"]) }
        return nil
    }

    func observations(_ context: ModuleContext) -> [Observation] {
        // With a delay the wait is what the task asks for: no shortcut.
        guard delay == 0, let probe else { return [] }
        return [.command(probe.argv)]
    }

    // MARK: Plan

    func plan(_ observed: Observations, _ context: ModuleContext) throws -> Plan {
        let result = ValueDict([("state", .string(state)), ("port", port.map(Value.int) ?? .null), ("path", path.map(Value.string) ?? .null),
                                ("search_regex", regex.map { .string($0.pattern) } ?? .null), ("match_groups", []), ("match_groupdict", [:]),
                                ("elapsed", 0)])
        guard let probe else {
            // No port and no path: only time.
            let wait = HostStep("wait \(delay + timeout) seconds", command: Command(["sleep", String(delay + timeout)])) { run in
                StepOutcome(result: result.merging(["elapsed": .int(run.elapsed)]))
            }
            return Plan(result: result, steps: [wait])
        }
        if delay == 0, let output = observed.command(probe.argv) {
            switch verdict(output) {
            case .holds(let groups):
                return Plan(result: result.merging(groups))
            case .failed(let why):
                return .failed(why)
            case .pending:
                break
            }
        }
        let timeoutMessage = self.timeoutMessage
        let step = HostStep(waitingFor, command: probe,
                            poll: HostStep.Poll(delay: Double(delay), interval: Double(interval), timeout: Double(timeout))) { run in
            let elapsed: ValueDict = ["elapsed": .int(run.elapsed)]
            switch self.verdict(run.output) {
            case .holds(let groups): return StepOutcome(result: result.merging(groups).merging(elapsed))
            case .failed(let why): return .failed(why, result: elapsed)
            case .pending: return StepOutcome(satisfied: false, result: elapsed, failure: timeoutMessage)
            }
        }
        return Plan(result: result, steps: [step])
    }

    var waitingFor: String {
        if let port { return "wait for \(host):\(port) to be \(state)" }
        return "wait for \(path ?? "") to be \(state)"
    }

    /// Ansible's messages when the time is up.
    var timeoutMessage: String {
        if let message { return message }
        if let port {
            switch state {
            case "stopped", "absent": return "Timeout when waiting for \(host):\(port) to stop."
            case "drained": return "Timeout when waiting for \(host):\(port) to drain"
            default:
                return regex.map { "Timeout when waiting for search string \($0.pattern) in \(host):\(port)" } ?? "Timeout when waiting for \(host):\(port)"
            }
        }
        let path = self.path ?? ""
        if state == "absent" { return "Timeout when waiting for \(path) to be absent." }
        return regex.map { "Timeout when waiting for search string \($0.pattern) in \(path)" } ?? "Timeout when waiting for file \(path)"
    }

    enum Verdict {
        /// The condition holds; the match's groups for the result.
        case holds(ValueDict)
        case pending
        case failed(String)
    }

    /// Whether what the probe printed satisfies the state.
    func verdict(_ output: CommandOutput) -> Verdict {
        if state == "drained" {
            guard output.status == 0 || !output.stdout.isEmpty else { return .failed("cannot read /proc/net/tcp: \(output.stderr)") }
            return activeConnections(output.stdout) == 0 ? .holds(ValueDict()) : .pending
        }
        let text = output.stdout
        let first = text.prefix { $0 != "\n" }
        let rest = text.dropFirst(min(text.count, first.count + 1))
        switch first {
        case "none":
            return .failed("the host has none of python3, bash (with timeout) or nc to open a TCP connection with: install one of them")
        case "open", "present":
            if state == "stopped" || state == "absent" { return .pending }
            guard let regex else { return .holds(ValueDict()) }
            guard let match = regex.search(String(rest)) else { return .pending }
            return .holds(WaitForModule.groups(match, pattern: regex.pattern))
        case "closed", "absent":
            return state == "stopped" || state == "absent" ? .holds(ValueDict()) : .pending
        default:
            return .failed("the wait_for probe failed (exit \(output.status)): \(output.stderr)\(text)")
        }
    }

    static func groups(_ match: PythonRegex.Match, pattern: String) -> ValueDict {
        let positional = (0..<match.groupCount).map { index -> Value in match.group(index + 1).map(Value.string) ?? .null }
        var named = ValueDict()
        var scanner = Substring(pattern)
        while let start = scanner.range(of: "(?P<") {
            let tail = scanner[start.upperBound...]
            guard let close = tail.firstIndex(of: ">") else { break }
            let name = String(tail[..<close])
            named[name] = match.group(named: name).map(Value.string) ?? .null
            scanner = tail[close...]
        }
        return ["match_groups": .list(positional), "match_groupdict": .dict(named)]
    }

    /// Connections on the port in an active state, as Ansible's LinuxTCPConnectionInfo counts them:
    /// local port matching, remote address not excluded.
    func activeConnections(_ table: String) -> Int {
        let excludedHex = Set(excluded.flatMap(WaitForModule.procAddresses))
        var count = 0
        for line in table.split(separator: "\n").dropFirst() {
            let fields = line.split(separator: " ")
            guard fields.count > 3, fields[0].hasSuffix(":") else { continue }
            let local = fields[1].split(separator: ":"), remote = fields[2].split(separator: ":")
            guard local.count == 2, remote.count == 2, Int(local[1], radix: 16) == port,
                  activeStates.contains(String(fields[3])) else { continue }
            if excludedHex.contains(String(remote[0]).uppercased()) { continue }
            count += 1
        }
        return count
    }

    /// An IPv4 address as /proc/net/tcp writes it (little-endian hex), and as tcp6 writes its mapped form.
    static func procAddresses(_ address: String) -> [String] {
        let parts = address.split(separator: ".").compactMap { UInt8($0) }
        guard parts.count == 4 else { return [] }
        let v4 = parts.reversed().map { String(format: "%02X", $0) }.joined()
        return [v4, "0000000000000000FFFF0000" + v4]
    }
}
