import Provisioner

/// Ansible's `package_facts`: the installed packages as the fact `packages`, a mapping of each
/// name to the list of its installed versions, read with dpkg-query or rpm.
struct PackageFactsModule: Module {
    static let name = "package_facts"
    static let summary = "Read the installed packages into the packages fact"
    static let returnsFacts = true
    static let arguments: [ArgumentSpec] = [
        ArgumentSpec("manager", .list, default: ["auto"], doc: "auto, apt or rpm (several: tried in order)"),
        ArgumentSpec("strategy", .string, default: "first", choices: ["first", "all"],
                     doc: "first: the first manager found; all: every one found"),
    ]

    let managers: [String]
    let strategy: String

    init(_ arguments: ModuleArguments) throws {
        var names = (arguments.strings("manager") ?? ["auto"]).map { $0.lowercased() }
        if names.contains("auto") { names = ["apt", "rpm"] }
        for name in names where !["apt", "rpm"].contains(name) {
            throw ModuleError("package manager '\(name)' is not supported here (apt and rpm are)", argument: "manager")
        }
        managers = names
        strategy = arguments.string("strategy") ?? "first"
    }

    /// The package module's listing: one dpkg-query answers both.
    static let dpkg = PackageManager.dpkgListing
    static let rpm = ["rpm", "-qa", "--qf", "%{NAME}\\t%{VERSION}\\t%{RELEASE}\\t%{EPOCH}\\t%{ARCH}\\n"]

    func argv(_ manager: String) -> [String] { manager == "apt" ? PackageFactsModule.dpkg : PackageFactsModule.rpm }

    func observations(_ context: ModuleContext) -> [Observation] { managers.map { .command(argv($0)) } }

    func plan(_ observed: Observations, _ context: ModuleContext) throws -> Plan {
        var packages = ValueDict(), found: [String] = []
        for manager in managers {
            // A manager the host lacks answers 127; one that fails answers otherwise.
            guard let output = observed.command(argv(manager)), output.status == 0 else { continue }
            found.append(manager)
            let lines = output.stdout.split(separator: "\n").map { $0.split(separator: "\t", omittingEmptySubsequences: false).map(String.init) }
            // As python-apt names them: the bare name in the host's own architecture (dpkg's, which
            // is never Multi-Arch "all"), `name:arch` in a foreign one.
            let native = lines.first { $0.count == 6 && $0[0] == "dpkg" }?[3]
            for fields in lines {
                var details: ValueDict
                if manager == "apt" {
                    guard fields.count == 6, fields[1].dropFirst().first == "i" else { continue }
                    let foreign = native != nil && fields[3] != native && fields[3] != "all"
                    details = ValueDict([("name", .string(foreign ? fields[0] + ":" + fields[3] : fields[0])), ("version", .string(fields[2])),
                                         ("arch", .string(fields[3])), ("category", .string(fields[4])), ("origin", .string(fields[5])),
                                         ("source", "apt")])
                } else {
                    guard fields.count == 5 else { continue }
                    details = ValueDict([("name", .string(fields[0])), ("version", .string(fields[1])), ("release", .string(fields[2])),
                                         ("epoch", fields[3] == "(none)" ? .null : .string(fields[3])), ("arch", .string(fields[4])),
                                         ("source", "rpm")])
                }
                let name = details["name"]?.string ?? ""
                packages[name] = .list((packages[name]?.list ?? []) + [.dict(details)])
            }
            if strategy == "first" { break }
        }
        guard !found.isEmpty else {
            return .failed("Could not detect a supported package manager from the following list: \(managers), "
                + "or the required Python library is not installed. Check warnings for details.")
        }
        return Plan(result: ["ansible_facts": .dict(["packages": .dict(packages)])])
    }
}
