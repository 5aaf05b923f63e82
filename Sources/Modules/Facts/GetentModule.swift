import Provisioner

/// Ansible's `getent`: entries of a name service database (passwd, group, hosts, services, ...)
/// as the fact `getent_DATABASE`, a mapping of each entry's key to its other fields.
struct GetentModule: Module {
    static let name = "getent"
    static let summary = "Read a name service database into the getent_DATABASE fact"
    static let returnsFacts = true
    static let arguments: [ArgumentSpec] = [
        ArgumentSpec("database", .string, required: true, doc: "passwd, group, shadow, hosts, services, ... (as getent(1) knows them)"),
        ArgumentSpec("key", .string, doc: "the entry to look up; all entries when left out"),
        ArgumentSpec("split", .string, doc: "field separator; ':' for passwd, shadow, group and gshadow, else whitespace"),
        ArgumentSpec("fail_key", .bool, default: true, doc: "fail when the key is not found (false: the fact maps it to null)"),
        ArgumentSpec("service", .string, doc: "the NSS service to ask (getent -s)"),
    ]

    let database: String
    let key: String?
    let split: String?
    let failKey: Bool
    let service: String?

    init(_ arguments: ModuleArguments) throws {
        database = arguments.string("database") ?? ""
        key = arguments.string("key")
        failKey = arguments["fail_key"].flatMap(ModuleArguments.boolean) ?? true
        service = arguments.string("service")
        split = arguments.string("split") ?? (["passwd", "shadow", "group", "gshadow"].contains(database) ? ":" : nil)
        if database.isEmpty || database.hasPrefix("-") { throw ModuleError("database must name a database", argument: "database") }
        if split == "" { throw ModuleError("split must not be empty", argument: "split") }
    }

    var argv: [String] { ["getent", database] + (key.map { [$0] } ?? []) + (service.map { ["-s", $0] } ?? []) }

    func observations(_ context: ModuleContext) -> [Observation] { [.command(argv)] }

    func plan(_ observed: Observations, _ context: ModuleContext) throws -> Plan {
        guard let output = observed.command(argv) else { return .failed("getent could not run on the host") }
        let fact = "getent_\(database)"
        switch output.status {
        case 0:
            var entries = ValueDict(), seen: [String: Int] = [:]
            for line in output.stdout.split(separator: "\n", omittingEmptySubsequences: false).dropLastIfEmpty() {
                let record = fields(String(line))
                guard let first = record.first else { continue }
                let rest = Value.list(record.dropFirst().map(Value.string))
                // Several entries for one key (hosts): a list of their field lists, as Ansible's.
                switch seen[first, default: 0] {
                case 0: entries[first] = rest
                case 1: entries[first] = .list([entries[first] ?? .null, rest])
                default: entries[first] = .list((entries[first]?.list ?? []) + [rest])
                }
                seen[first, default: 0] += 1
            }
            return Plan(result: ["ansible_facts": .dict([fact: .dict(entries)])])
        case 1: return .failed("Missing arguments, or database unknown.")
        case 2:
            let message = "One or more supplied key could not be found in the database."
            guard failKey else {
                return Plan(result: ["ansible_facts": .dict([fact: .dict(ValueDict([(key ?? "", .null)]))]), "msg": .string(message)])
            }
            return .failed(message)
        case 3: return .failed("Enumeration not supported on this database.")
        default: return .failed("getent failed (exit \(output.status)): \(output.stderr)")
        }
    }

    /// Python's `str.split(sep)` (or `split()` on whitespace).
    func fields(_ line: String) -> [String] {
        guard let split else { return line.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init) }
        return line.components(separatedBy: split)
    }
}

extension Array where Element == Substring {
    func dropLastIfEmpty() -> [Substring] { last == "" ? Array(dropLast()) : self }
}
