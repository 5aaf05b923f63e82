import XCTest
@testable import Modules
@testable import Provisioner

/// "Observed state in -> plan out" for modules: arguments are validated against the
/// module's declaration (defaults filled in) as the engine does, and the fixture
/// answers exactly what the module asked to observe.
enum ModuleFixture {
    static func make<M: Module>(_ type: M.Type, _ arguments: KeyValuePairs<String, Value>) throws -> M {
        let raw = ValueDict(arguments.map { ($0.key, $0.value) })
        return try M(ModuleArguments.validate(raw, against: M.arguments, module: M.name))
    }

    /// Plans with `files` (absent ones are missing) and `commands` (absent ones unanswered).
    /// Every fixture entry must have been asked for, so tests cannot feed what the module ignores.
    static func plan<M: Module>(_ module: M, files: [String: FileState] = [:], commands: [[String]: CommandOutput] = [:],
                                targets: [String: FileState] = [:], context: ModuleContext = ModuleContext(),
                                file: StaticString = #filePath, line: UInt = #line) throws -> Plan {
        let requests = module.observations(context)
        var observed = Observations()
        var askedPaths = Set<String>(), askedCommands = Set<[String]>(), askedTargets = Set<String>()
        for request in requests {
            switch request {
            case .file(let path, let content):
                askedPaths.insert(path)
                if var state = files[path] {
                    if !content { state.content = nil }
                    observed.files[path] = state
                } else {
                    observed.missing.insert(path)
                }
            case .command(let argv):
                askedCommands.insert(argv)
                if let output = commands[argv] { observed.commands[argv] = output }
            case .target(let path):
                askedTargets.insert(path)
                if let state = targets[path] { observed.targets[path] = state } else { observed.unresolved.insert(path) }
            }
        }
        for path in targets.keys where !askedTargets.contains(path) {
            XCTFail("the fixture has the target of \(path), which the module did not ask for (it asked: \(requests))", file: file, line: line)
        }
        for path in files.keys where !askedPaths.contains(path) {
            XCTFail("the fixture has \(path), which the module did not ask for (it asked: \(requests))", file: file, line: line)
        }
        for argv in commands.keys where !askedCommands.contains(argv) {
            XCTFail("the fixture answers \(argv), which the module did not ask for (it asked: \(requests))", file: file, line: line)
        }
        return try module.plan(observed, context)
    }

    static func file(_ text: String, mode: UInt32 = 0o644, owner: String = "root", group: String = "root",
                     modified: Double = 1_700_000_000) -> FileState {
        FileState(kind: .file, mode: mode, owner: owner, group: group, size: text.utf8.count, modified: modified, content: Array(text.utf8))
    }

    static func directory(mode: UInt32 = 0o755, owner: String = "root", group: String = "root") -> FileState {
        FileState(kind: .directory, mode: mode, owner: owner, group: group)
    }

    static func link(to target: String) -> FileState {
        FileState(kind: .link, mode: 0o777, owner: "root", group: "root", linkTarget: target)
    }

    static func ok(_ stdout: String) -> CommandOutput { CommandOutput(status: 0, stdout: stdout) }
    static func failed(_ status: Int32 = 1, _ stdout: String = "", _ stderr: String = "") -> CommandOutput {
        CommandOutput(status: status, stdout: stdout, stderr: stderr)
    }
}

extension Plan {
    var summaries: [String] { changes.map(\.summary) }
    var actions: [Action] { changes.flatMap(\.actions) }
    /// The bytes of the single file write, as text.
    var written: String? {
        for case .writeFile(_, let content, _, _) in actions { return String(decoding: content, as: UTF8.self) }
        return nil
    }
}
