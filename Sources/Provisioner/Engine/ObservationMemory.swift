import Foundation

/// A probe whose answer the controller keeps between runs, for a probe that is costly to run (podman's
/// start-up: ~50 ms of a converged host's round trip) while a few `stat`s tell whether its answer moved.
///
/// Its script's first argument is the stamp it printed last time ("+": none kept yet; "-": no memory, so
/// no stamp is wanted and none is worked out). On the host it works out the stamp again and prints
/// `@same` when it equals that one; otherwise `@stamp BASE64` (when it can tell a stamp) and then its
/// whole answer. A task sees the answer either way (`ObservationMemory`).
public enum RememberedProbe {
    static let name = "provision-remembered"

    /// The probe as modules observe it: `/bin/sh -c SCRIPT` with "-" as the stamp (run as it is where there
    /// is no memory: a delegated task), then `arguments`.
    public static func command(_ script: String, _ arguments: [String]) -> [String] {
        ["/bin/sh", "-c", script, name, "-"] + arguments
    }

    static func isRemembered(_ argv: [String]) -> Bool { argv.count >= 5 && argv[3] == name }

    /// The answer without its `@stamp` line, and the stamp it told.
    static func split(_ output: CommandOutput) -> (stamp: String?, answer: CommandOutput) {
        guard output.stdout.hasPrefix("@stamp ") else { return (nil, output) }
        let line = output.stdout.prefix { $0 != "\n" }
        var answer = output
        answer.stdout = String(output.stdout.dropFirst(line.count + 1))
        let stamp = Data(base64Encoded: String(line.dropFirst(7))).flatMap { String(data: $0, encoding: .utf8) }
        return (stamp, answer)
    }
}

/// The answers of remembered probes (`RememberedProbe`) for one host and user, kept on the controller
/// (`$XDG_CACHE_HOME/provision/observations`, else `~/.cache/provision/observations`, mode 0600). An
/// answer is used only when the host has just said its stamp is unchanged; it is never trusted beyond that.
struct ObservationMemory {
    struct Entry: Codable, Equatable {
        var stamp: String
        var status: Int32
        var stdout: String
        var stderr: String
    }

    let file: String
    private var entries: [String: Entry]?

    /// The memory for `host` (a transport's name) as `user` (the become key), or nil where there is no home for it.
    init?(host: String, user: String, environment: [String: String] = ProcessInfo.processInfo.environment) {
        guard let folder = ControllerCache.folder("observations", environment: environment) else { return nil }
        file = "\(folder)/\(SHA256.hex(Array("\(host)\0\(user)".utf8)).prefix(32))"
    }

    /// Reads `requests` through `transport`: each remembered probe goes with the stamp kept for it, and
    /// comes back as its answer (the one kept, where the host said `@same`).
    mutating func observe(_ requests: [Observation], via transport: Transport) throws -> Observations {
        let remembered = requests.compactMap { request -> [String]? in
            guard case .command(let argv) = request, RememberedProbe.isRemembered(argv) else { return nil }
            return argv
        }
        guard !remembered.isEmpty else { return try transport.observe(requests) }
        if entries == nil { entries = load() }
        var sent: [[String]: [String]] = [:]
        for argv in remembered {
            var stamped = argv
            stamped[4] = entries?[Self.key(argv)]?.stamp ?? "+"
            sent[argv] = stamped
        }
        let rewritten = requests.map { request in sent[request.argv].map { Observation.command($0) } ?? request }
        var observed = try transport.observe(rewritten)
        var changed = false
        for argv in remembered {
            let key = Self.key(argv)
            guard let asSent = sent[argv], let output = observed.commands.removeValue(forKey: asSent) else { continue }
            if output.status == 0, output.stdout == "@same\n", let kept = entries?[key] {
                observed.commands[argv] = CommandOutput(status: kept.status, stdout: kept.stdout, stderr: kept.stderr)
                continue
            }
            let (stamp, answer) = RememberedProbe.split(output)
            observed.commands[argv] = answer
            let entry = stamp.map { Entry(stamp: $0, status: answer.status, stdout: answer.stdout, stderr: answer.stderr) }
            if answer.status == 0, entries?[key] != entry {
                entries?[key] = entry
                changed = true
            }
        }
        if changed, let entries, let data = try? JSONEncoder().encode(entries) { ControllerCache.write(data, to: file) }
        return observed
    }

    private static func key(_ argv: [String]) -> String { SHA256.hex(Array(argv.joined(separator: "\0").utf8)) }

    private func load() -> [String: Entry] {
        guard let data = FileManager.default.contents(atPath: file),
              let entries = try? JSONDecoder().decode([String: Entry].self, from: data) else { return [:] }
        return entries
    }
}

/// Where the controller keeps what it remembers of hosts (facts, probe answers): best effort, since a
/// memory that cannot be kept only costs the next run some work.
enum ControllerCache {
    /// `$XDG_CACHE_HOME/provision/NAME`, else `~/.cache/provision/NAME`; nil without an absolute home.
    static func folder(_ name: String, environment: [String: String]) -> String? {
        if let xdg = environment["XDG_CACHE_HOME"], xdg.hasPrefix("/") { return "\(xdg)/provision/\(name)" }
        if let home = environment["HOME"], home.hasPrefix("/") { return "\(home)/.cache/provision/\(name)" }
        return nil
    }

    /// Replaces `file` whole (mode 0600, its folder 0700), or leaves it as it was.
    static func write(_ data: Data, to file: String) {
        let folder = (file as NSString).deletingLastPathComponent
        guard (try? FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true,
                                                       attributes: [.posixPermissions: 0o700])) != nil else { return }
        let temporary = "\(file).\(getpid()).tmp"
        guard FileManager.default.createFile(atPath: temporary, contents: data, attributes: [.posixPermissions: 0o600]) else { return }
        if rename(temporary, file) != 0 { unlink(temporary) }
    }
}
