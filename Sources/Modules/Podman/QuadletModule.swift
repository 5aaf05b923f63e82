import Provisioner

/// A podman systemd unit (podman-systemd.unit(5)): `NAME.TYPE` in /etc/containers/systemd (system) or
/// ~USER/.config/containers/systemd (user), with optional drop-ins, checked by the host's own generator
/// before it is installed. Reloads and restarts are the engine's (ServiceRestarts): one daemon-reload per
/// manager per play, then exactly the units whose files, drop-ins or `restart_on` files changed since they
/// started are restarted; the others keep running.
struct QuadletModule: Module {
    static let name = "quadlet"
    static let summary = "A podman quadlet unit (.container, .volume, .network, .pod, .kube, .image, .build) run by systemd"
    static let defersUnitRestarts = true
    static let arguments: [ArgumentSpec] = [
        ArgumentSpec("name", .string, required: true, doc: "the unit's name: NAME.TYPE is written, quadlet makes its service of it"),
        ArgumentSpec("type", .string, default: "container", choices: QuadletKind.allCases.map(\.rawValue),
                     doc: "the kind of unit (pod needs podman 5.0, build 5.2, image 4.8; the rest 4.4)"),
        ArgumentSpec("sections", .dict, doc: "section -> key -> value; a list repeats the key in order, a mapping writes KEY=name=value per pair"),
        ArgumentSpec("content", .string, doc: "the whole unit file, instead of sections"),
        ArgumentSpec("src", .path, doc: "a template on the controller (templates/) rendered into the unit file, instead of sections"),
        ArgumentSpec("dropins", .dict, doc: "NAME.conf -> sections (or text): the complete set of drop-ins in NAME.TYPE.d/ (podman 5.0)"),
        ArgumentSpec("state", .string, default: "present", choices: ["present", "absent"],
                     doc: "absent: stop the service, remove the unit and its drop-ins (data is kept unless purge)"),
        ArgumentSpec("started", .bool, default: true,
                     doc: "the service runs (restarted when its unit changed); false: it is stopped"),
        ArgumentSpec("restart_on", .list, doc: "files on the host (configuration it mounts): the service restarts when one changed since it started"),
        ArgumentSpec("timeout", .int, default: 120, doc: "seconds to wait for the service to be active (healthy, with Notify=healthy)"),
        ArgumentSpec("purge", .bool, default: false,
                     doc: "with state: absent, also remove what the unit made: its volume (.volume), network (.network) or image (.image, .build)"),
    ] + PodmanScope.specs

    let unitName: String
    let kind: QuadletKind
    let scope: PodmanScope
    let present: Bool
    let started: Bool
    let restartOn: [String]
    let timeout: Int
    let purge: Bool
    /// The unit from `sections` or `content`; nil for a template (`src`), rendered when planning.
    let unit: UnitFile?
    let content: String?
    let src: String?
    /// Drop-in name -> its text; nil when the task does not manage drop-ins.
    let dropIns: [(name: String, text: String)]?

    init(_ arguments: ModuleArguments) throws {
        var name = arguments.string("name") ?? ""
        var kind = QuadletKind(rawValue: arguments.string("type") ?? "container") ?? .container
        // `name: web.container` is accepted and means the same as name: web, type: container.
        if let dot = name.lastIndex(of: "."), let written = QuadletKind(rawValue: String(name[name.index(after: dot)...])) {
            if arguments.values["type"] != nil && arguments.string("type") != written.rawValue && arguments.string("type") != "container" {
                throw ModuleError("name \(name) says .\(written.rawValue) but type is \(kind.rawValue)", argument: "name")
            }
            name = String(name[..<dot])
            kind = written
        }
        guard QuadletModule.isUnitName(name) else {
            throw ModuleError("'\(name)' is not a unit name (letters, digits, and - _ . @ only)", argument: "name")
        }
        unitName = name
        self.kind = kind
        scope = try PodmanScope(arguments)
        present = arguments.string("state") != "absent"
        started = arguments.bool("started")
        restartOn = arguments.strings("restart_on") ?? []
        timeout = arguments.int("timeout") ?? 120
        purge = arguments.bool("purge")
        if timeout < 1 { throw ModuleError("timeout must be at least 1 second", argument: "timeout") }
        for path in restartOn where !path.hasPrefix("/") {
            throw ModuleError("restart_on paths must be absolute: '\(path)'", argument: "restart_on")
        }
        let sources = ["sections", "content", "src"].filter { arguments[$0] != nil }
        if present && sources.count != 1 {
            throw ModuleError(sources.isEmpty ? "state: present needs one of sections, content or src"
                                : "give one of sections, content or src, not \(sources.joined(separator: " and "))",
                              argument: sources.last)
        }
        if purge && present { throw ModuleError("purge: true goes with state: absent", argument: "purge") }
        if purge && ![.volume, .network, .image, .build].contains(kind) {
            throw ModuleError("purge applies to .volume, .network, .image and .build units; a .\(kind.rawValue) holds no data of its own",
                              argument: "purge")
        }
        content = arguments.string("content")
        src = arguments.string("src")
        if let sections = arguments.dict("sections") {
            var unit = try UnitFile(sections, argument: "sections")
            unit.ensure(kind.section, at: unit.has("Unit") ? 1 : 0)
            self.unit = unit
        } else if let content {
            unit = try UnitFile(parsing: content, name: "content")
        } else {
            unit = nil
        }
        if let dropins = arguments.dict("dropins") {
            dropIns = try dropins.map { name, body in
                guard name.hasSuffix(".conf"), !name.contains("/"), name.count > 5 else {
                    throw ModuleError("drop-in '\(name)' must be a file name ending in .conf", argument: "dropins")
                }
                if let text = body.string {
                    _ = try UnitFile(parsing: text, name: name)
                    return (name, text.hasSuffix("\n") || text.isEmpty ? text : text + "\n")
                }
                guard let sections = body.dict else {
                    throw ModuleError("drop-in \(name) must be sections (a mapping) or text", argument: "dropins")
                }
                return (name, try UnitFile(sections, argument: "dropins").text)
            }
        } else {
            dropIns = nil
        }
        try (unit.map { [$0] } ?? []).forEach(validatePorts)
        for dropIn in dropIns ?? [] { try validatePorts(try UnitFile(parsing: dropIn.text, name: dropIn.name)) }
    }

    static func isUnitName(_ name: String) -> Bool {
        !name.isEmpty && !name.hasPrefix(".") && !name.hasPrefix("-") && name.unicodeScalars.allSatisfy {
            ($0.value < 128 && ($0.properties.isAlphabetic || ("0"..."9").contains($0))) || "-_.@".unicodeScalars.contains($0)
        }
    }

    /// Published ports, wherever a unit may publish them, are real ports (before any host is touched).
    func validatePorts(_ unit: UnitFile) throws {
        let argument = content != nil ? "content" : dropIns != nil && self.unit == nil ? "dropins" : "sections"
        for section in ["Container", "Pod", "Kube"] {
            for spec in unit.values(section, "PublishPort") { try PortSpec.validate(spec, argument: argument) }
        }
    }

    var file: String { "\(unitName).\(kind.rawValue)" }

    var controllerFiles: [(path: String, kind: ControllerFileKind)] { src.map { [($0, .template)] } ?? [] }

    // MARK: Observations

    /// The unit text, from sections, content or the rendered template.
    func unitText(_ context: ModuleContext) throws -> String {
        if let src {
            let source = try context.readControllerFile(src, .template)
            let text = try context.renderTemplate(String(decoding: source, as: UTF8.self), src)
            return text.hasSuffix("\n") ? text : text + "\n"
        }
        if let content { return content.hasSuffix("\n") || content.isEmpty ? content : content + "\n" }
        return unit?.text ?? ""
    }

    /// The unit as parsed, for the service name and references (a template is parsed once rendered).
    func parsedUnit(_ context: ModuleContext) throws -> UnitFile {
        if let unit { return unit }
        guard present else { return UnitFile(sections: []) }
        let parsed = try UnitFile(parsing: try unitText(context), name: src ?? file)
        try validatePorts(parsed)
        return parsed
    }

    /// The service quadlet makes of this unit.
    func service(_ context: ModuleContext) throws -> String { kind.service(name: unitName, unit: try parsedUnit(context)) }

    /// The files the task wants (relative to the unit folder) and, in check mode, stand-ins for the units
    /// it references: an earlier task's .volume is not written yet when nothing is applied.
    func check(_ context: ModuleContext) throws -> Observation {
        var wanted: [(String, String)] = []
        var standIns: [(String, String)] = []
        if present {
            wanted.append((file, try unitText(context)))
            for dropIn in dropIns ?? [] { wanted.append(("\(file).d/\(dropIn.name)", dropIn.text)) }
            if context.checkMode { standIns = QuadletKind.references(in: try parsedUnit(context)).map { ($0, QuadletKind.standIn(for: $0)) } }
        }
        return QuadletProbe.check(scope, file: file, managesDropIns: dropIns != nil, standIns: standIns, wanted: wanted)
    }

    func observations(_ context: ModuleContext) -> [Observation] {
        var wanted = [QuadletProbe.listing(scope)] + restartOn.map { Observation.file(path: $0, content: false) }
        // A template that does not render yet is reported when planning.
        if present, let check = try? check(context) { wanted.append(check) }
        return wanted
    }

    /// What this task knows of its unit on the host.
    struct State: Equatable {
        var listing: QuadletProbe.Listing
        var check: QuadletProbe.Check
        var file: QuadletProbe.Installed?
        var dropIns: [String: QuadletProbe.Installed] = [:]
        var unit: [String: String] = [:]
        /// mtime of each `restart_on` file by position (missing files have none).
        var restartOn: [Int: Int] = [:]

        var active: Bool { ["active", "activating", "reloading", "refreshing"].contains(unit["ActiveState"] ?? "") }
        var startedAt: Int? {
            guard let text = unit["ActiveEnterTimestamp"], text.hasPrefix("@") else { return nil }
            return Int(text.dropFirst())
        }
    }

    func state(_ observed: Observations, _ context: ModuleContext) throws -> State {
        let listingOutput = observed.command(QuadletProbe.listing(scope).argv)
        guard let listing = QuadletProbe.parseListing(listingOutput) else {
            throw ModuleError("could not read \(scope.owner) quadlet units: \(listingOutput?.stderr ?? "no answer")")
        }
        var check = QuadletProbe.Check.same
        if present {
            let output = observed.command(try self.check(context).argv)
            guard let parsed = QuadletProbe.parseCheck(output, file: file) else {
                throw ModuleError("could not check \(file) on the host: \(output?.stderr ?? "no answer")")
            }
            check = parsed
        }
        var state = State(listing: listing, check: check, file: listing.files[file])
        for (name, installed) in listing.files where name.hasPrefix(file + ".d/") {
            state.dropIns[String(name.dropFirst(file.count + 3))] = installed
        }
        let service = try self.service(context)
        state.unit = listing.services[service] ?? [:]
        // The unit or a drop-in is newer than the generator's last output: a daemon-reload is due.
        if let generated = listing.generated[service],
           ([state.file].compactMap { $0 } + Array(state.dropIns.values)).contains(where: { $0.modified > generated }) {
            state.unit["NeedDaemonReload"] = "yes"
        }
        for (index, path) in restartOn.enumerated() {
            if let found = observed.file(path) { state.restartOn[index] = Int(found.modified) }
        }
        return state
    }

    // MARK: Plan

    func plan(_ observed: Observations, _ context: ModuleContext) throws -> Plan {
        // The unit first: a template's bad port is refused whatever the host says.
        let service = try self.service(context)
        let state = try self.state(observed, context)
        let listing = state.listing
        var notes: [String] = []
        switch state.check {
        case .same: break
        case .passed(let version), .noGenerator(let version), .failed(let version, _):
            let parsed = version.flatMap(PodmanVersion.init)
            if let problem = versionProblem(parsed) {
                guard context.checkMode, parsed == nil else { throw ModuleError(problem) }
                notes.append("podman is not installed yet (an earlier task installs it): the generator checks \(file) when applying")
            }
        }
        if listing.userMissing {
            guard context.checkMode || !present else {
                throw ModuleError("there is no user \(scope.user ?? ""): create it first (user module)", argument: "user")
            }
            if !present { return Plan(result: result(service, path: nil, state: "absent")) }
        }
        let directory = listing.directory ?? "~\(scope.user ?? "")/.config/containers/systemd"
        let path = directory + "/" + file
        if let error = listing.managerError, scope.user != nil, present || state.file != nil {
            let problem = "the systemd manager of \(scope.user ?? "") does not answer (\(error)); enable lingering for it first (linger: user=\(scope.user ?? ""))"
            guard context.checkMode else { throw ModuleError(problem, argument: "user") }
            notes.append(problem)
        }
        if case .failed(let version, let complaints) = state.check {
            throw ModuleError("the host's quadlet generator (podman \(version ?? "?")) rejects \(file): \(complaints.joined(separator: "; "))"
                              + "; nothing was changed", argument: content != nil ? "content" : src != nil ? "src" : "sections")
        }
        if case .noGenerator(let version) = state.check, version != nil, !context.checkMode {
            throw ModuleError("podman \(version ?? "") has no quadlet generator here (podman-system-generator): install podman's quadlet")
        }
        let changes = present ? try presentChanges(service, state, directory: directory, context)
                              : absentChanges(service, state, directory: directory)
        var plan = Plan(changes: changes.changes, result: result(service, path: path, state: present ? "present" : "absent"), units: changes.units)
        if !notes.isEmpty { plan.result["notes"] = .list(notes.map(Value.string)) }
        if !changes.changes.isEmpty, !notes.isEmpty { plan.changes[0].summary += " (\(notes.joined(separator: "; ")))" }
        return plan
    }

    /// Why this host's podman cannot run the unit; nil when it can.
    func versionProblem(_ version: PodmanVersion?) -> String? {
        guard let version else { return "quadlet needs podman ≥ \(QuadletKind.quadlet); podman is not installed on this host" }
        if version < QuadletKind.quadlet { return "quadlet needs podman ≥ \(QuadletKind.quadlet); this host has \(version)" }
        if version < kind.since { return "a .\(kind.rawValue) unit needs podman ≥ \(kind.since); this host has \(version)" }
        if let dropIns, !dropIns.isEmpty, version < QuadletKind.dropIns {
            return "quadlet drop-ins need podman ≥ \(QuadletKind.dropIns); this host has \(version)"
        }
        return nil
    }

    func result(_ service: String, path: String?, state: String) -> ValueDict {
        var result = ValueDict([("name", .string(unitName)), ("type", .string(kind.rawValue)), ("service", .string(service)),
                                ("scope", .string(scope.user == nil ? "system" : "user")), ("state", .string(state))])
        if let path { result["path"] = .string(path) }
        return result
    }

    typealias Changes = (changes: [Change], units: [UnitRequest])

    func presentChanges(_ service: String, _ state: State, directory: String, _ context: ModuleContext) throws -> Changes {
        var changes: [Change] = []
        let attributes = FileAttributes(mode: 0o644, owner: scope.user, group: scope.user)
        let folderAttributes = FileAttributes(mode: 0o755, owner: scope.user, group: scope.user)
        if !state.listing.directoryExists {
            changes.append(Change("create \(directory)", actions: [.makeDirectory(path: directory, attributes: folderAttributes)]))
        }
        let text = try unitText(context)
        let path = directory + "/" + file
        if state.file?.content != Array(text.utf8) {
            let before = state.file.map { String(decoding: $0.content, as: UTF8.self) } ?? ""
            changes.append(Change(state.file == nil ? "create \(path)" : "update \(path)",
                                  diff: TextDiff(label: path, before: before, after: text),
                                  actions: [.writeFile(path: path, content: Array(text.utf8), attributes: attributes, backup: false)]))
        }
        if let dropIns {
            let folder = path + ".d"
            if !dropIns.isEmpty && state.dropIns.isEmpty {
                changes.append(Change("create \(folder)", actions: [.makeDirectory(path: folder, attributes: folderAttributes)]))
            }
            for dropIn in dropIns where state.dropIns[dropIn.name]?.content != Array(dropIn.text.utf8) {
                let target = folder + "/" + dropIn.name
                let before = state.dropIns[dropIn.name].map { String(decoding: $0.content, as: UTF8.self) }
                changes.append(Change(before == nil ? "create \(target)" : "update \(target)",
                                      diff: TextDiff(label: target, before: before ?? "", after: dropIn.text),
                                      actions: [.writeFile(path: target, content: Array(dropIn.text.utf8), attributes: attributes, backup: false)]))
            }
            for stale in state.dropIns.keys.sorted() where !dropIns.contains(where: { $0.name == stale }) {
                let target = folder + "/" + stale
                changes.append(Change("remove \(target) (not among the task's drop-ins)",
                                      diff: TextDiff(label: target, before: String(decoding: state.dropIns[stale]?.content ?? [], as: UTF8.self), after: ""),
                                      actions: [.remove(path: target)]))
            }
        }
        return serviceChanges(service, state, filesChanged: changes.contains { $0.diff != nil }, into: changes)
    }

    /// Whether the service must stop, restart or start; the restarts and starts are the engine's
    /// (after one daemon-reload per manager), so their changes carry no actions of their own.
    func serviceChanges(_ service: String, _ state: State, filesChanged: Bool, into changes: [Change]) -> Changes {
        var changes = changes
        let reloadPending = state.unit["NeedDaemonReload"] == "yes" || (state.file != nil && state.unit["LoadState"] == "not-found")
        let reload = filesChanged || reloadPending
        let current = state.unit["ActiveState"] ?? "inactive"
        guard started else {
            if state.active {
                changes.append(Change("stop \(service)", diff: TextDiff(label: "unit \(service)", before: "state: \(current)\n", after: "state: inactive\n"),
                                      actions: [.run(scope.manager.systemctlCommand(["stop", service]))]))
            }
            if reloadPending && !filesChanged { changes.append(Change("daemon-reload (\(file) changed since the last one)", actions: [])) }
            return (changes, reload ? [UnitRequest(manager: scope.manager, reload: true)] : [])
        }
        let operation: UnitRequest.Operation
        // A container of a pod restarts with its pod: stopping the pod's last container stops the pod,
        // and the container, bound to it, could not start again.
        let pod = podService(state)
        let restarted = pod.map { "\($0) (\(file) is in it)" } ?? service
        if filesChanged {
            operation = .restart
            changes.append(Change("\(state.active ? "restart" : "start") \(state.active ? restarted : service)", actions: []))
        } else if let reason = reloadPending ? "\(file) changed since the last daemon-reload" : staleness(state) {
            operation = .restart
            changes.append(Change("restart \(restarted) (\(reason))", actions: []))
        } else if !state.active {
            operation = .start
            changes.append(Change("start \(service)", diff: TextDiff(label: "unit \(service)", before: "state: \(current)\n", after: "state: active\n"),
                                  actions: []))
        } else {
            return (changes, [])
        }
        let target = operation == .restart && state.active ? pod ?? service : service
        return (changes, [UnitRequest(manager: scope.manager, unit: target, operation: operation, reload: reload,
                                      rank: target == service ? kind.rank : QuadletKind.pod.rank, timeout: timeout)])
    }

    /// The service of the pod this container belongs to (`Pod=NAME.pod`), as its installed unit names it.
    func podService(_ state: State) -> String? {
        guard kind == .container, let file = unit.flatMap({ $0.value("Container", "Pod") }) ?? parsedInstalled(state)?.value("Container", "Pod"),
              file.hasSuffix(".pod") else { return nil }
        let installed = state.listing.files[file].flatMap { try? UnitFile(parsing: String(decoding: $0.content, as: UTF8.self), name: file) }
        return QuadletKind.pod.service(name: String(file.dropLast(4)), unit: installed ?? UnitFile(sections: []))
    }

    func parsedInstalled(_ state: State) -> UnitFile? {
        state.file.flatMap { try? UnitFile(parsing: String(decoding: $0.content, as: UTF8.self), name: file) }
    }

    /// Why a running service is older than what defines it: a file changed after it started.
    func staleness(_ state: State) -> String? {
        guard state.active, let started = state.startedAt else { return nil }
        if let file = state.file, file.modified > started { return "\(self.file) changed since it started" }
        for (name, dropIn) in state.dropIns.sorted(by: { $0.key < $1.key }) where dropIn.modified > started {
            return "drop-in \(name) changed since it started"
        }
        for (index, path) in restartOn.enumerated() {
            if let modified = state.restartOn[index], modified > started { return "\(path) changed since it started" }
        }
        return nil
    }

    func absentChanges(_ service: String, _ state: State, directory: String) -> Changes {
        let path = directory + "/" + file
        guard state.file != nil || !state.dropIns.isEmpty else { return ([], []) }
        var changes: [Change] = []
        if state.active {
            changes.append(Change("stop \(service)", actions: [.run(scope.manager.systemctlCommand(["stop", service]))]))
        }
        let before = state.file.map { String(decoding: $0.content, as: UTF8.self) } ?? ""
        if state.file != nil {
            changes.append(Change("remove \(path)", diff: TextDiff(label: path, before: before, after: ""), actions: [.remove(path: path)]))
        }
        if !state.dropIns.isEmpty {
            changes.append(Change("remove \(path).d", actions: [.remove(path: path + ".d")]))
        }
        if purge, let installed = try? UnitFile(parsing: before, name: file), let object = kind.purged(name: unitName, unit: installed) {
            // Only what exists: a volume already gone is no failure; one in use fails with podman's reason.
            let argv = ["/bin/sh", "-c", #"k=$1 n=$2; shift 2; "$@" "$k" exists "$n" 2>/dev/null || exit 0; exec "$@" "$k" rm "$n""#,
                        "purge", object.kind, object.name] + scope.podman([])
            changes.append(Change("remove \(object.kind) \(object.name) (purge)",
                                  actions: [.run(scope.labeled(argv, "podman \(object.kind) rm \(object.name)"))]))
        }
        return (changes, [UnitRequest(manager: scope.manager, reload: true)])
    }
}
