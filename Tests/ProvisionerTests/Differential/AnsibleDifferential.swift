import Foundation
import XCTest

/// One small play that `ansible-playbook` (ansible-core 2.19, the reference) and `provision` both run,
/// each against its own output folder: `{{ root }}` in the play is that folder. The two must agree on
/// the exit status, the per-host recap counts and every file left under the folder.
struct DifferentialPlay {
    var name: String
    /// The playbook text. Write what a keyword did into files under `{{ root }}` so the trees show it.
    var play: String
    /// An INI inventory. Hosts use the local connection; several names give several "hosts".
    var inventory = "localhost ansible_connection=local\n"
    /// Files beside the playbook (roles, task files, templates, vars files), by relative path.
    var files: [String: String] = [:]
    /// Given to both programs after the playbook (`--check`, `--tags x`, `-e k=v`).
    var arguments: [String] = []
    /// Lines both outputs must contain (a debug message, an error's words); checked in each output.
    var expectedInBoth: [String] = []
    /// Text neither output may contain (a secret under no_log).
    var forbiddenInBoth: [String] = []

    init(_ name: String, play: String, inventory: String? = nil, files: [String: String] = [:], arguments: [String] = [],
         expectedInBoth: [String] = [], forbiddenInBoth: [String] = []) {
        self.name = name
        self.play = play
        if let inventory { self.inventory = inventory }
        self.files = files
        self.arguments = arguments
        self.expectedInBoth = expectedInBoth
        self.forbiddenInBoth = forbiddenInBoth
    }
}

/// What one program did with a `DifferentialPlay`.
struct DifferentialOutcome: Equatable {
    var status: Int32
    /// Host -> counter -> value, from the PLAY RECAP lines (ok, changed, unreachable, failed, skipped, rescued, ignored).
    var recap: [String: [String: Int]]
    /// Every path under the output folder with its type, mode and content.
    var tree: [String]
    var output: String

    static func == (a: DifferentialOutcome, b: DifferentialOutcome) -> Bool {
        a.status == b.status && a.recap == b.recap && a.tree == b.tree
    }
}

enum AnsibleDifferential {
    static let counters = ["ok", "changed", "unreachable", "failed", "skipped", "rescued", "ignored"]

    /// Runs `play` through both programs in a fresh folder and returns both outcomes.
    static func run(_ play: DifferentialPlay) throws -> (ansible: DifferentialOutcome, provision: DifferentialOutcome) {
        let ansiblePlaybook = try TestSupport.ansiblePlaybook()
        let provision = try TestSupport.provisionBinary().path
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("provision-diff-\(UUID().uuidString.prefix(8))")
        defer { try? FileManager.default.removeItem(at: folder) }
        func write(_ relative: String, _ text: String) throws {
            let url = folder.appendingPathComponent(relative)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data(text.utf8).write(to: url)
        }
        try write("play.yml", play.play)
        try write("hosts.ini", play.inventory)
        for (path, text) in play.files { try write(path, text) }

        var environment = ProcessInfo.processInfo.environment
        environment["ANSIBLE_LOCALHOST_WARNING"] = "False"
        environment["ANSIBLE_INVENTORY_UNPARSED_WARNING"] = "False"
        environment["ANSIBLE_DEPRECATION_WARNINGS"] = "False"
        environment["ANSIBLE_NOCOLOR"] = "1"
        environment["NO_COLOR"] = "1"
        environment["ANSIBLE_HOME"] = folder.appendingPathComponent(".ansible").path
        let venvPython = URL(fileURLWithPath: ansiblePlaybook).deletingLastPathComponent().appendingPathComponent("python").path
        if FileManager.default.isExecutableFile(atPath: venvPython) { environment["ANSIBLE_PYTHON_INTERPRETER"] = venvPython }

        func outcome(_ program: String, _ label: String) throws -> DifferentialOutcome {
            let root = folder.appendingPathComponent("out-" + label)
            try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
            var arguments = program == provision ? ["apply"] : []
            arguments += [folder.appendingPathComponent("play.yml").path, "-i", folder.appendingPathComponent("hosts.ini").path,
                          "-e", "root=\(root.path)"] + play.arguments
            let result = try TestSupport.run(program, arguments, environment: environment, in: folder)
            let output = result.stdout + result.stderr
            return DifferentialOutcome(status: result.status, recap: recap(output), tree: try tree(root), output: output)
        }
        return (try outcome(ansiblePlaybook, "ansible"), try outcome(provision, "provision"))
    }

    /// Runs `play` through both programs and fails the test where they disagree; true when they agree.
    @discardableResult
    static func assertAgree(_ play: DifferentialPlay, file: StaticString = #filePath, line: UInt = #line) throws -> Bool {
        let (ansible, ours) = try run(play)
        var problems: [String] = []
        if ansible.recap.isEmpty { problems.append("ansible-playbook printed no recap") }
        if ours.status != ansible.status { problems.append("exit status: provision \(ours.status), ansible-playbook \(ansible.status)") }
        if ours.recap != ansible.recap { problems.append("recap: provision \(ours.recap), ansible-playbook \(ansible.recap)") }
        if ours.tree != ansible.tree {
            problems.append("files: provision \(ours.tree.filter { !ansible.tree.contains($0) }), "
                + "ansible-playbook \(ansible.tree.filter { !ours.tree.contains($0) })")
        }
        for text in play.expectedInBoth {
            if !ansible.output.contains(text) { problems.append("ansible-playbook's output lacks '\(text)'") }
            if !ours.output.contains(text) { problems.append("provision's output lacks '\(text)'") }
        }
        for text in play.forbiddenInBoth {
            if ansible.output.contains(text) { problems.append("ansible-playbook's output shows '\(text)'") }
            if ours.output.contains(text) { problems.append("provision's output shows '\(text)'") }
        }
        for problem in problems {
            XCTFail("[\(play.name)] \(problem)\n--- ansible-playbook:\n\(ansible.output)\n--- provision:\n\(ours.output)",
                    file: file, line: line)
        }
        return problems.isEmpty
    }

    /// Asserts every play agrees; returns how many did (the figure for a closing note).
    @discardableResult
    static func assertAllAgree(_ plays: [DifferentialPlay], file: StaticString = #filePath, line: UInt = #line) throws -> Int {
        var agreeing = 0
        for play in plays where try assertAgree(play, file: file, line: line) { agreeing += 1 }
        print("differential: \(agreeing) of \(plays.count) plays agree with ansible-playbook")
        return agreeing
    }

    /// The PLAY RECAP lines of either program: `host : ok=1 changed=0 ...`.
    static func recap(_ output: String) -> [String: [String: Int]] {
        var result: [String: [String: Int]] = [:]
        var inRecap = false
        for line in output.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("PLAY RECAP") { inRecap = true; continue }
            guard inRecap, let colon = line.range(of: " : ") else { continue }
            let host = line[..<colon.lowerBound].trimmingCharacters(in: .whitespaces)
            var counts: [String: Int] = [:]
            for token in line[colon.upperBound...].split(separator: " ") {
                let parts = token.split(separator: "=", maxSplits: 1)
                if parts.count == 2, counters.contains(String(parts[0])), let n = Int(parts[1]) { counts[String(parts[0])] = n }
            }
            for counter in counters where counts[counter] == nil { counts[counter] = 0 }
            result[host] = counts
        }
        return result
    }

    /// Every path under `root`, sorted: type, permission bits, link target or content.
    static func tree(_ root: URL) throws -> [String] {
        let paths = try FileManager.default.subpathsOfDirectory(atPath: root.path).sorted()
        return try paths.map { sub in
            let path = root.appendingPathComponent(sub).path
            let attributes = try FileManager.default.attributesOfItem(atPath: path)
            let type = attributes[.type] as? FileAttributeType
            let mode = String((attributes[.posixPermissions] as? Int) ?? 0, radix: 8)
            if type == .typeSymbolicLink { return "\(sub) link \(try FileManager.default.destinationOfSymbolicLink(atPath: path))" }
            if type == .typeDirectory { return "\(sub) dir \(mode)" }
            return "\(sub) file \(mode) \(String(decoding: FileManager.default.contents(atPath: path) ?? Data(), as: UTF8.self))"
        }
    }
}
