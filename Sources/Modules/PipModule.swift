import Foundation
import Provisioner

/// Ansible's `pip`: Python packages present (satisfying their version specifiers), latest, or
/// absent, in the host's Python or a virtualenv it creates, on hosts that have python3 and pip.
/// What is installed (`pip list --format=freeze`) is read in the play's observation round trip,
/// so satisfied requirements cost nothing; `latest`, requirement files and URLs, whose effect pip
/// alone knows, run as a step judged as Ansible judges it ("Successfully installed", or the freeze
/// before and after).
struct PipModule: Module {
    static let name = "pip"
    static let summary = "Install or remove Python packages with pip (optionally in a virtualenv)"
    static let arguments: [ArgumentSpec] = [
        ArgumentSpec("name", .list, doc: "requirements: names with optional specifiers ('flask>=2'), or URLs/paths"),
        ArgumentSpec("version", .string, doc: "version for a single name ('1.2' means ==1.2; specifiers allowed)"),
        ArgumentSpec("requirements", .string, doc: "a requirements file on the host"),
        ArgumentSpec("state", .string, default: "present", choices: ["present", "absent", "latest", "forcereinstall"],
                     doc: "present, latest (pip install -U), absent, forcereinstall"),
        ArgumentSpec("virtualenv", .path, doc: "virtualenv to install into; created when missing"),
        ArgumentSpec("virtualenv_command", .string, default: "virtualenv", doc: "how to create it ('python3 -m venv' for the standard one)"),
        ArgumentSpec("virtualenv_python", .string, doc: "python for virtualenv -p"),
        ArgumentSpec("virtualenv_site_packages", .bool, default: false, doc: "let the virtualenv see the system's packages"),
        ArgumentSpec("extra_args", .string, doc: "more pip options (split like a shell)"),
        ArgumentSpec("editable", .bool, default: false, doc: "install in editable mode (-e)"),
        ArgumentSpec("chdir", .path, doc: "folder pip runs in (and virtualenv is relative to)"),
        ArgumentSpec("executable", .path, doc: "the pip to run (not with virtualenv)"),
        ArgumentSpec("break_system_packages", .bool, default: false, doc: "allow pip to change an externally managed Python (PEP 668)"),
    ]

    let names: [String]
    let requirements: [Requirement]
    let requirementsFile: String?
    let state: String
    let virtualenv: String?
    let virtualenvCommand: [String]
    let extraArgs: [String]
    let chdir: String?
    let executable: String?
    let breakSystem: Bool

    init(_ arguments: ModuleArguments) throws {
        state = arguments.string("state") ?? "present"
        var names = (arguments.strings("name") ?? []).filter { !$0.isEmpty }
        requirementsFile = arguments.string("requirements")
        if let version = arguments.string("version") {
            if state == "latest" { throw ModuleError("version is incompatible with state=latest", argument: "version") }
            guard names.count == 1 else {
                throw ModuleError("'version' argument is ambiguous when installing multiple package distributions. "
                    + "Please specify version restrictions next to each package in 'name' argument.", argument: "version")
            }
            if Requirement(names[0])?.specifiers.isEmpty == false {
                throw ModuleError("The 'version' argument conflicts with any version specifier provided along with a package name. "
                    + "Please keep the version specifier, but remove the 'version' argument.", argument: "version")
            }
            let hasOperator = "=<>!~".contains(version.first ?? " ")
            names[0] += hasOperator ? version : "==" + version
        }
        self.names = names
        requirements = names.compactMap(Requirement.init)
        let folder = arguments.string("chdir")
        chdir = folder
        virtualenv = arguments.string("virtualenv").map { path in folder.map { PathText.join($0, path) } ?? path }
        executable = arguments.string("executable")
        var create = try Shlex.split(arguments.string("virtualenv_command") ?? "virtualenv", argument: "virtualenv_command")
        let isVenv = create.contains("venv") || create.first.map { PathText.base(of: $0) == "pyvenv" } == true
        if let python = arguments.string("virtualenv_python") {
            if isVenv { throw ModuleError("virtualenv_python applies to virtualenv, not to venv (give the python in virtualenv_command)",
                                          argument: "virtualenv_python") }
            create.append("-p\(python)")
        }
        if arguments.bool("virtualenv_site_packages") { create.append("--system-site-packages") }
        virtualenvCommand = create
        extraArgs = try (arguments.string("extra_args").map { try Shlex.split($0, argument: "extra_args") } ?? [])
            + (arguments.bool("editable") && !(arguments.string("extra_args") ?? "").split(separator: " ").contains("-e") ? ["-e"] : [])
        breakSystem = arguments.bool("break_system_packages")
        if names.isEmpty && requirementsFile == nil {
            throw ModuleError("one of the following is required: name, requirements", argument: "name")
        }
        if virtualenv != nil && executable != nil {
            throw ModuleError("parameters are mutually exclusive: executable|virtualenv", argument: "executable")
        }
        if state == "absent" && names.isEmpty { throw ModuleError("state=absent needs names", argument: "state") }
    }

    // MARK: What is installed

    /// `pip<TAB>PATH` (or `nopip`), `venv<TAB>present|missing`, then pip's freeze list.
    static let script = #"""
    venv=$1 executable=$2
    if [ -n "$venv" ]; then
      if [ -e "$venv/bin/activate" ]; then printf 'venv\tpresent\n'; else printf 'venv\tmissing\n'; exit 0; fi
      pip=$venv/bin/pip
    elif [ -n "$executable" ]; then pip=$executable
    else pip=$(command -v pip3 || command -v pip) || { echo nopip; exit 0; }
    fi
    printf 'pip\t%s\n' "$pip"
    echo @freeze
    "$pip" list --format=freeze --disable-pip-version-check 2> /dev/null || "$pip" freeze 2> /dev/null
    exit 0
    """#

    var probe: Observation { .command(["/bin/sh", "-c", PipModule.script, "sh", virtualenv ?? "", executable ?? ""]) }

    func observations(_ context: ModuleContext) -> [Observation] { [probe] }

    func plan(_ observed: Observations, _ context: ModuleContext) throws -> Plan {
        let text = observed.command(probe.argv)?.stdout ?? ""
        if text.hasPrefix("nopip") { return .failed("Unable to find any of pip3, pip to use.  pip needs to be installed.") }
        let venvMissing = text.contains("venv\tmissing")
        let pip = venvMissing ? PathText.join(virtualenv ?? "", "bin/pip")
            : text.split(separator: "\n").first { $0.hasPrefix("pip\t") }.map { String($0.dropFirst(4)) } ?? "pip3"
        let installed = PipModule.installed(text.components(separatedBy: "@freeze\n").dropFirst().first ?? "")
        var result: ValueDict = ["name": .list(names.map(Value.string)), "state": .string(state),
                                 "requirements": requirementsFile.map(Value.string) ?? .null, "virtualenv": virtualenv.map(Value.string) ?? .null]
        var changes: [Change] = []
        if venvMissing, let virtualenv {
            changes.append(Change("create virtualenv \(virtualenv)", diff: TextDiff(label: virtualenv, before: "", after: "virtualenv\n"),
                                  actions: [.run(Command(virtualenvCommand + [virtualenv], directory: chdir ?? "/tmp"))]))
        }
        let environment = (breakSystem ? ["PIP_BREAK_SYSTEM_PACKAGES": "1"] : [:])
            .merging(virtualenv.map { ["PATH": PathText.join($0, "bin") + ":/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"] } ?? [:]) { $1 }
        func pipCommand(_ words: [String]) -> Command {
            Command([pip] + words + ["--disable-pip-version-check"], environment: environment, directory: chdir ?? "/tmp")
        }
        let targets = names.isEmpty ? ["-r", requirementsFile ?? ""] : names
        result["cmd"] = .list(([pip] + PipModule.words(state) + extraArgs + targets).map(Value.string))
        switch state {
        case "absent":
            let present = requirements.filter { installed[$0.key] != nil }
            if !present.isEmpty || requirements.count < names.count {
                changes.append(Change("pip uninstall \(names.joined(separator: " "))",
                                      diff: TextDiff(label: "python packages", before: present.map { "\($0.key): \(installed[$0.key] ?? "")\n" }.joined(),
                                                     after: present.map { "\($0.key): absent\n" }.joined()),
                                      actions: [.run(pipCommand(["uninstall", "-y"] + extraArgs + names))]))
            }
            return Plan(changes: changes, result: result)
        case "present" where requirementsFile == nil && requirements.count == names.count:
            let missing = requirements.filter { !$0.isSatisfied(by: installed[$0.key]) }
            if !missing.isEmpty || venvMissing {
                changes.append(Change("pip install \(names.joined(separator: " "))",
                                      diff: TextDiff(label: "python packages", before: missing.map { "\($0.key): \(installed[$0.key] ?? "absent")\n" }.joined(),
                                                     after: missing.map { "\($0.text)\n" }.joined()),
                                      actions: [.run(pipCommand(["install"] + extraArgs + names))]))
            }
            return Plan(changes: changes, result: result)
        default:
            // latest, forcereinstall, a requirements file, URLs: what pip does is known once it ran.
            let words = PipModule.words(state) + extraArgs + targets
            if context.checkMode {
                return Plan(changes: changes + [Change("pip \(words.joined(separator: " "))", actions: [])], result: result)
            }
            let byFreeze = requirementsFile != nil || requirements.count < names.count
            let venvCreated = venvMissing
            let step = HostStep("pip \(words.joined(separator: " "))",
                                command: Command(["/bin/sh", "-c", PipModule.installScript, "sh", byFreeze ? "1" : "0", pip] + words,
                                                 environment: environment, directory: chdir ?? "/tmp")) { run in
                let parts = run.output.stdout.components(separatedBy: "\n@freeze\n")
                let stdout: ValueDict = ["stdout": .string(parts[0]), "stderr": .string(run.output.stderr)]
                guard run.output.status == 0 else {
                    return .failed("pip failed (exit \(run.output.status)): \(run.output.stderr.isEmpty ? parts[0] : run.output.stderr)",
                                   result: stdout)
                }
                let changed = byFreeze ? parts.count == 3 && parts[1] != parts[2] : parts[0].contains("Successfully installed")
                return StepOutcome(changed: changed || venvCreated || state == "forcereinstall", touched: true, result: stdout)
            }
            return Plan(changes: changes, result: result, steps: [step])
        }
    }

    /// Runs pip (FREEZE=1: with the freeze list before and after, separated by `@freeze` lines).
    static let installScript = #"""
    byfreeze=$1 pip=$2; shift 2
    freeze() { "$pip" list --format=freeze --disable-pip-version-check 2> /dev/null || "$pip" freeze 2> /dev/null; }
    [ "$byfreeze" = 1 ] && before=$(freeze)
    "$pip" "$@" --disable-pip-version-check || exit $?
    [ "$byfreeze" = 1 ] && printf '\n@freeze\n%s\n@freeze\n%s' "$before" "$(freeze)"
    exit 0
    """#

    static func words(_ state: String) -> [String] {
        switch state {
        case "absent": return ["uninstall", "-y"]
        case "latest": return ["install", "-U"]
        case "forcereinstall": return ["install", "-U", "--force-reinstall"]
        default: return ["install"]
        }
    }

    /// Normalized name -> version from `name==version` (or `name @ URL`) lines.
    static func installed(_ freeze: String) -> [String: String] {
        var found: [String: String] = [:]
        for line in freeze.split(separator: "\n") {
            if let range = line.range(of: "==") {
                found[Requirement.normalize(String(line[..<range.lowerBound]))] = String(line[range.upperBound...])
            } else if let range = line.range(of: " @ ") {
                found[Requirement.normalize(String(line[..<range.lowerBound]))] = ""
            }
        }
        return found
    }

    /// A requirement by name and version specifiers (PEP 508 without URLs; markers ignored).
    struct Requirement: Equatable {
        var text: String
        var key: String
        var specifiers: [(op: String, version: String)]

        static func == (a: Requirement, b: Requirement) -> Bool { a.text == b.text }

        init?(_ text: String) {
            let body = text.split(separator: ";", maxSplits: 1).first.map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
            guard !body.contains("/"), !body.contains(":"), !body.hasPrefix("-"), !body.hasPrefix(".") else { return nil }
            let nameEnd = body.firstIndex { "[=<>!~ (".contains($0) } ?? body.endIndex
            let name = String(body[..<nameEnd])
            guard !name.isEmpty, name.allSatisfy({ $0.isLetter || $0.isNumber || "-_.".contains($0) }) else { return nil }
            var rest = Substring(body[nameEnd...])
            if rest.hasPrefix("["), let close = rest.firstIndex(of: "]") { rest = rest[rest.index(after: close)...] }
            var specifiers: [(String, String)] = []
            for clause in rest.replacingOccurrences(of: "(", with: "").replacingOccurrences(of: ")", with: "").split(separator: ",") {
                let trimmed = clause.trimmingCharacters(in: .whitespaces)
                guard !trimmed.isEmpty else { continue }
                guard let op = ["===", "==", "!=", "~=", ">=", "<=", ">", "<"].first(where: { trimmed.hasPrefix($0) }) else { return nil }
                specifiers.append((op, trimmed.dropFirst(op.count).trimmingCharacters(in: .whitespaces)))
            }
            self.text = text
            key = Requirement.normalize(name)
            self.specifiers = specifiers
        }

        /// PEP 503: case and runs of -_. do not matter.
        static func normalize(_ name: String) -> String {
            var out = "", lastSeparator = false
            for c in name.lowercased() {
                if "-_.".contains(c) { if !lastSeparator { out.append("-") }; lastSeparator = true } else { out.append(c); lastSeparator = false }
            }
            return out
        }

        func isSatisfied(by installed: String?) -> Bool {
            guard let installed else { return false }
            guard !installed.isEmpty else { return specifiers.isEmpty }
            return specifiers.allSatisfy { op, version in
                if op == "===" { return installed == version }
                if version.hasSuffix(".*"), op == "==" || op == "!=" {
                    let prefix = PipModule.release(String(version.dropLast(2)))
                    let matches = Array(PipModule.release(installed).prefix(prefix.count)) == prefix
                    return op == "==" ? matches : !matches
                }
                let order = PipModule.compare(installed, version)
                switch op {
                case "==": return order == 0
                case "!=": return order != 0
                case ">=": return order >= 0
                case "<=": return order <= 0
                case ">": return order > 0
                case "<": return order < 0
                default:
                    // ~=X.Y means >=X.Y and ==X.*
                    let release = PipModule.release(version)
                    return order >= 0 && Array(PipModule.release(installed).prefix(max(release.count - 1, 1))) == Array(release.prefix(max(release.count - 1, 1)))
                }
            }
        }
    }

    /// A version's release numbers (`1.2.3rc1` -> [1, 2, 3]).
    static func release(_ version: String) -> [Int] {
        var text = Substring(version.lowercased())
        if let bang = text.firstIndex(of: "!") { text = text[text.index(after: bang)...] }
        let head = text.prefix { $0.isNumber || $0 == "." }
        return head.split(separator: ".").compactMap { Int($0) }
    }

    /// PEP 440 order, enough for specifiers: release numbers, then dev < pre (a < b < rc) < final < post.
    static func compare(_ a: String, _ b: String) -> Int {
        func key(_ version: String) -> (release: [Int], phase: Int, number: Int) {
            let lower = version.lowercased()
            let release = self.release(lower)
            let tail = lower.drop { $0.isNumber || $0 == "." || $0 == "!" }
            let number = Int(tail.filter(\.isNumber)) ?? 0
            if tail.contains("dev") { return (release, -4, number) }
            if tail.hasPrefix("a") || tail.hasPrefix("alpha") { return (release, -3, number) }
            if tail.hasPrefix("b") || tail.hasPrefix("beta") { return (release, -2, number) }
            if tail.hasPrefix("rc") || tail.hasPrefix("c") { return (release, -1, number) }
            if tail.contains("post") || tail.hasPrefix("-") { return (release, 1, number) }
            return (release, 0, 0)
        }
        let x = key(a), y = key(b)
        let width = max(x.release.count, y.release.count)
        let left = x.release + Array(repeating: 0, count: width - x.release.count)
        let right = y.release + Array(repeating: 0, count: width - y.release.count)
        if left != right { return left.lexicographicallyPrecedes(right) ? -1 : 1 }
        if x.phase != y.phase { return x.phase < y.phase ? -1 : 1 }
        if x.number != y.number { return x.number < y.number ? -1 : 1 }
        return 0
    }
}
