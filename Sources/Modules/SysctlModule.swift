import Provisioner

/// A kernel parameter: its line in a sysctl.d file (what systemd-sysctl applies at boot) and,
/// with `reload`, its live value (`sysctl -w`), so the setting holds now and after a reboot.
///
/// The file is edited line by line: an existing `name = value` or `name=value` line for the
/// key (written with dots or slashes) is replaced, every other line stays byte for byte, and a
/// missing key is appended. Values compare split on whitespace, because the kernel prints
/// multi-value keys (`net.ipv4.ip_local_port_range`) with a tab where files usually have a space.
///
/// One probe reads the live value and whether /proc/sys lets it be written: in a container it
/// is read-only, and a live change there is refused with a clear way out (`reload: false`)
/// rather than failing halfway through the apply.
struct SysctlModule: Module {
    static let name = "sysctl"
    static let summary = "Set a kernel parameter in a sysctl.d file and, with reload, its live value"
    static let arguments: [ArgumentSpec] = [
        ArgumentSpec("name", .string, required: true, aliases: ["key"],
                     doc: "the parameter, with dots or slashes (net.ipv4.ip_forward)"),
        ArgumentSpec("value", .raw, aliases: ["val"],
                     doc: "the wanted value (required unless state is absent); booleans become 1/0, a list is joined with spaces"),
        ArgumentSpec("state", .string, default: "present", choices: ["present", "absent"],
                     doc: "present: the key is in sysctl_file; absent: its line is removed (the live value is left as it is)"),
        ArgumentSpec("sysctl_file", .path, default: .string(defaultFile),
                     doc: "the sysctl.d file that holds the key"),
        ArgumentSpec("reload", .bool, default: true,
                     doc: "also set the live value (sysctl -w) when it differs; false writes only the file"),
    ]

    static let defaultFile = "/etc/sysctl.d/90-provision.conf"

    /// Prints the live value (then READONLY when /proc/sys/... cannot be opened for writing:
    /// busybox's `test -w` says yes to root on a read-only mount, an append of nothing does not);
    /// exit 3 with sysctl's message when the kernel has no such key, 5 when the key exists but
    /// cannot be read (e.g. stable_secret before it is set), 4 when sysctl is not installed.
    /// $2 is the /proc/sys path, computed here because keys in slash form keep their dots.
    static let probeScript = #"command -v sysctl >/dev/null || exit 4; v=$(sysctl -n "$1" 2>&1) || { printf "%s\n" "$v" >&2; [ -e "$2" ] && exit 5; exit 3; }; printf "%s\n" "$v"; if true 2>/dev/null >>"$2"; then :; else echo READONLY; fi"#

    let key: String
    let value: String?
    let present: Bool
    let file: String
    let reload: Bool

    init(_ arguments: ModuleArguments) throws {
        key = arguments.string("name") ?? ""
        present = arguments.string("state") != "absent"
        file = arguments.string("sysctl_file") ?? SysctlModule.defaultFile
        reload = arguments.bool("reload")
        guard !key.isEmpty, !key.hasPrefix("-"), !key.hasPrefix("/"), !key.hasPrefix("."),
              !key.contains(where: { $0 == "=" || $0.isWhitespace }), !key.contains("..") else {
            throw ModuleError("'\(key)' is not a sysctl name (such as net.ipv4.ip_forward)", argument: "name")
        }
        guard file.hasPrefix("/") else {
            throw ModuleError("sysctl_file must be an absolute path, not '\(file)'", argument: "sysctl_file")
        }
        value = try arguments["value"].flatMap(SysctlModule.render)
        if present && (value ?? "").isEmpty {
            throw ModuleError("sysctl needs a value for \(key) (or state: absent to remove it)", argument: "value")
        }
    }

    /// The text sysctl takes: 1/0 for booleans (yes/no too, as Ansible), digits for numbers.
    static func render(_ value: Value) throws -> String? {
        switch value {
        case .null: return nil
        case .unsafe(let inner): return try render(inner)
        case .bool(let b): return b ? "1" : "0"
        case .int(let i): return String(i)
        case .float(let d): return d == d.rounded() && abs(d) < 1e15 ? String(Int(d)) : String(d)
        case .string(let s):
            switch s.lowercased() {
            case "yes", "true", "on": return "1"
            case "no", "false", "off": return "0"
            default:
                guard !s.contains("\n") else { throw ModuleError("a sysctl value is one line", argument: "value") }
                return s.trimming(" ").trimming("\t")
            }
        case .list(let items):
            return try items.map { try render($0) ?? "" }.joined(separator: " ")
        case .dict:
            throw ModuleError("value must be text, a number or a boolean, not a mapping", argument: "value")
        }
    }

    /// Dotted form: `net/ipv4/conf/eth0.100/rp_filter` is `net.ipv4.conf.eth0/100.rp_filter`
    /// (sysctl(8): when the first separator is a slash, dots belong to the names).
    static func canonical(_ key: String) -> String {
        guard let slash = key.firstIndex(of: "/") else { return key }
        if let dot = key.firstIndex(of: "."), dot < slash { return key }
        return swapSeparators(key)
    }

    static func swapSeparators(_ key: String) -> String {
        String(key.map { $0 == "." ? "/" : $0 == "/" ? "." : $0 })
    }

    var procPath: String { "/proc/sys/" + SysctlModule.swapSeparators(SysctlModule.canonical(key)) }

    var probe: [String] { ["/bin/sh", "-c", SysctlModule.probeScript, "sh", key, procPath] }

    func observations(_ context: ModuleContext) -> [Observation] {
        [.file(path: file, content: true)] + (present && reload ? [.command(probe)] : [])
    }

    func plan(_ observed: Observations, _ context: ModuleContext) throws -> Plan {
        var result = ValueDict([("name", .string(key)), ("sysctl_file", .string(file))])
        if let value { result["value"] = .string(value) }
        var changes: [Change] = []
        let current = observed.file(file)
        if let current, current.kind != .file {
            return .failed("\(file) is not a regular file")
        }
        let before = String(decoding: current?.content ?? [], as: UTF8.self)
        if let after = edited(before, fileExists: current != nil) {
            let verb = current == nil ? "create \(file) with" : present ? "set in \(file):" : "remove from \(file):"
            changes.append(Change(present ? "\(verb) \(key) = \(value ?? "")" : "\(verb) \(key)",
                                  diff: TextDiff(label: file, before: before, after: after),
                                  actions: [.writeFile(path: file, content: Array(after.utf8),
                                                       attributes: FileAttributes(mode: 0o644), backup: false)]))
        }
        if present, reload, let value {
            guard let output = observed.command(probe) else { return .failed("could not read the live value of \(key)") }
            switch output.status {
            case 0: break
            case 3: return .failed("the kernel has no sysctl \(key) (\(output.stderr.trimming("\n")))")
            case 4: return .failed("sysctl is not installed on this host (package procps); install it or set reload: false")
            case 5: return .failed("the kernel cannot read \(key) (\(output.stderr.trimming("\n"))); set reload: false to write only the file")
            default: return .failed("reading \(key) failed (exit \(output.status)): \(output.stderr.trimming("\n"))")
            }
            var lines = output.stdout.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            while lines.last == "" { lines.removeLast() }
            let readOnly = lines.last == "READONLY"
            if readOnly { lines.removeLast() }
            let live = lines.joined(separator: "\n")
            result["live_value"] = .string(live)
            if !SysctlModule.same(live, value) {
                if readOnly {
                    return .failed("the kernel refuses \(key) here: /proc/sys is read-only (a container?); "
                        + "set reload: false to write only the file")
                }
                changes.append(Change("set live \(key) to \(value) (was \(live.split(whereSeparator: \.isWhitespace).joined(separator: " ")))",
                                      diff: TextDiff(label: "sysctl \(key)", before: live + "\n", after: value + "\n"),
                                      actions: [.run(Command(["sysctl", "-w", "\(key)=\(value)"]))]))
            }
        }
        return Plan(changes: changes, result: result)
    }

    static func same(_ a: String, _ b: String) -> Bool {
        a.split(whereSeparator: \.isWhitespace) == b.split(whereSeparator: \.isWhitespace)
    }

    /// The key of a `key = value` line (a leading `-` means "ignore errors" to systemd-sysctl), and its value.
    static func parse(_ line: Substring) -> (key: String, value: String)? {
        var text = line.drop(while: { $0 == " " || $0 == "\t" })
        guard let first = text.first, first != "#", first != ";", let equals = text.firstIndex(of: "=") else { return nil }
        if first == "-" { text = text.dropFirst() }
        let name = text[..<equals].trimmingCharacters(" \t")
        let value = text[text.index(after: equals)...].trimmingCharacters(" \t\r")
        return (canonical(name), value)
    }

    /// The file with the key set (or removed); nil when it already is.
    func edited(_ text: String, fileExists: Bool) -> String? {
        let wanted = SysctlModule.canonical(key)
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        if lines.last == "" { lines.removeLast() }
        let matches = lines.indices.filter { SysctlModule.parse(lines[$0])?.key == wanted }
        guard present, let value else {
            if matches.isEmpty { return nil }
            return lines.indices.filter { !matches.contains($0) }.map { lines[$0] + "\n" }.joined()
        }
        let line = Substring("\(key) = \(value)")
        if let first = matches.first {
            // Later lines for the key would win at boot, so only the first one stays.
            let converged = matches.count == 1 && SysctlModule.parse(lines[first]).map { SysctlModule.same($0.value, value) } == true
            if converged { return nil }
            lines[first] = line
            let extra = Set(matches.dropFirst())
            return lines.indices.filter { !extra.contains($0) }.map { lines[$0] + "\n" }.joined()
        }
        // An existing last line without its newline gets one before ours.
        return text + (text.isEmpty || text.hasSuffix("\n") ? "" : "\n") + line + "\n"
    }
}

private extension Substring {
    func trimmingCharacters(_ set: String) -> String {
        String(drop(while: { set.contains($0) }).reversed().drop(while: { set.contains($0) }).reversed())
    }
}
