import Foundation
import Provisioner

/// `mode: quadlet`: the project's units, planned unit by unit by the quadlet module itself (its unit text,
/// diffs, reload and restart requests, removal), plus what a project adds: the units of services that left
/// the project are removed, the services' env files kept beside the units, and one generator check of all
/// the project's units together (a container names its volume and network units) before anything is written.
struct ComposeUnits {
    let module: ComposeModule
    let loaded: ComposeModule.Loaded

    var scope: PodmanScope { module.scope }
    var project: ComposeProject { loaded.project }

    /// The env files provision keeps in the unit folder (`NAME.env`): mtime, sha256 and first line of each.
    static let environmentScript = """
    scope=$1 user=$2
    \(QuadletProbe.unitFolder)
    [ -d "$dir" ] || exit 0
    for f in "$dir"/*.env; do
      [ -f "$f" ] || continue
      echo "e $(stat -c %Y -- "$f") $(sha256sum < "$f" | cut -c1-64) ${f##*/}"
      IFS= read -r h < "$f" || true
      echo "h $h"
    done
    """

    static func environmentFiles(_ scope: PodmanScope) -> Observation {
        .command(["/bin/sh", "-c", environmentScript, "compose-env-files", scope.user == nil ? "system" : "user", scope.user ?? ""])
    }

    struct EnvironmentFile {
        var modified: Int
        var sha256: String
        /// The compose project named in its header, when provision wrote it.
        var project: String?
    }

    static func parseEnvironmentFiles(_ output: CommandOutput?) -> [String: EnvironmentFile]? {
        guard let output, output.status == 0 else { return nil }
        var files: [String: EnvironmentFile] = [:]
        var last: String?
        for line in output.stdout.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("e ") {
                let fields = line.split(separator: " ", maxSplits: 3).map(String.init)
                guard fields.count == 4, let modified = Int(fields[1]) else { return nil }
                files[fields[3]] = EnvironmentFile(modified: modified, sha256: fields[2])
                last = fields[3]
            } else if line.hasPrefix("h "), let name = last {
                if let range = line.range(of: "(compose project "), let end = line[range.upperBound...].firstIndex(of: ",") {
                    files[name]?.project = String(line[range.upperBound..<end])
                }
            }
        }
        return files
    }

    func plan(_ observed: Observations, _ context: ModuleContext) throws -> Plan {
        let listingArgv = QuadletProbe.listing(scope).argv
        guard let listingOutput = observed.command(listingArgv), let listing = QuadletProbe.parseListing(listingOutput) else {
            throw ModuleError("could not read \(scope.owner) quadlet units: \(observed.command(listingArgv)?.stderr ?? "no answer")")
        }
        guard let environment = ComposeUnits.parseEnvironmentFiles(observed.command(ComposeUnits.environmentFiles(scope).argv)) else {
            throw ModuleError("could not read \(scope.owner) unit folder")
        }
        let podman = try ComposePodman.podmanState(observed, scope: scope)
        if module.present, let other = podman.containers.first(where: { $0.labels["io.podman.compose.project"] == project.name }) {
            throw ModuleError("the project \(project.name) runs under podman-compose (container \(other.names.first ?? "")): "
                              + "remove it there first (state: absent, mode: podman-compose), then run it as units")
        }
        let directory = listing.directory ?? "~\(scope.user ?? "")/.config/containers/systemd"
        let units = module.present ? try ComposeQuadlet(project: project, user: scope.user, readFile: loaded.text).units() : []
        for unit in units where !QuadletModule.isUnitName(unit.name) {
            throw ComposeError(unit.service.map { "services.\($0)" } ?? "", "'\(unit.name)' is not a unit name (letters, digits, - _ . @)")
        }

        var directoryChange: Change?
        var changes: [Change] = []
        var requests: [UnitRequest] = []
        var services = ValueDict()
        func absorb(_ plan: Plan) {
            for change in plan.changes {
                if change.actions.contains(where: { if case .makeDirectory = $0 { return true } else { return false } }), change.summary == "create \(directory)" {
                    directoryChange = directoryChange ?? change
                } else {
                    changes.append(change)
                }
            }
            requests += plan.units
        }

        let images = podman.images
        for unit in units {
            let environmentPath = unit.environmentFile.map { directory + "/" + $0.name }
            let quadlet = try quadletModule(unit, restartOn: environmentPath)
            var fake = Observations()
            fake.commands[listingArgv] = listingOutput
            fake.commands[try quadlet.check(context).argv] = CommandOutput(status: 0, stdout: "same\n")
            if let environmentPath, let name = unit.environmentFile?.name {
                if let found = environment[name] {
                    fake.files[environmentPath] = FileState(kind: .file, mode: 0o600, owner: "", group: "", modified: Double(found.modified))
                } else {
                    fake.missing.insert(environmentPath)
                }
            }
            var plan = try quadlet.plan(fake, context)
            let service = unit.kind.service(name: unit.name, unit: unit.unit)
            let restarts = plan.units.contains { $0.operation != nil }
            if let file = unit.environmentFile, let path = environmentPath {
                let text = Array(file.text.utf8)
                if environment[file.name]?.sha256 != SHA256.hex(text) {
                    plan.changes.append(Change((environment[file.name] == nil ? "create " : "update ") + path,
                                               diff: TextDiff(label: path, before: environment[file.name] == nil ? "" : "(the service's previous environment)\n",
                                                              after: ComposeUnits.masked(file.text)),
                                               actions: [.writeFile(path: path, content: text, attributes: FileAttributes(mode: 0o600, owner: scope.user, group: scope.user), backup: false)]))
                    if !restarts {
                        plan.changes.append(Change("restart \(service) (its environment changed)", actions: []))
                        plan.units.append(UnitRequest(manager: scope.manager, unit: service, operation: .restart, reload: false,
                                                      rank: QuadletKind.container.rank, timeout: quadlet.timeout))
                    }
                }
            }
            if unit.kind == .container, !plan.units.contains(where: { $0.operation != nil }),
               let reason = imageMoved(unit, containers: podman.containers, images: images) {
                plan.changes.append(Change("restart \(service) (\(reason))", actions: []))
                plan.units.append(UnitRequest(manager: scope.manager, unit: service, operation: .restart, reload: false,
                                              rank: QuadletKind.container.rank, timeout: quadlet.timeout))
            }
            absorb(plan)
            if let name = unit.service {
                services[name] = .dict(["unit": .string(service), "container": .string(unit.unit.value("Container", "ContainerName") ?? "")])
            }
        }

        // Units of this project that are no longer wanted: containers first, then what they used.
        let wanted = Set(units.map(\.file))
        var stale: [(String, QuadletKind)] = []
        for (file, installed) in listing.files where !file.contains("/") && !wanted.contains(file) && file.hasPrefix(project.name + "-") {
            guard let dot = file.lastIndex(of: "."), let kind = QuadletKind(rawValue: String(file[file.index(after: dot)...])),
                  let unit = try? UnitFile(parsing: String(decoding: installed.content, as: UTF8.self), name: file),
                  unit.values(kind.section, "Label").contains("\(ComposeQuadlet.projectLabel)=\(project.name)") else { continue }
            stale.append((String(file[..<dot]), kind))
        }
        for (name, kind) in stale.sorted(by: { ($0.1.rank, $0.0) > ($1.1.rank, $1.0) }) {
            let purge = kind == .network || (kind == .volume && module.removeVolumes)
            let quadlet = try QuadletModule(ModuleArguments.validate(ValueDict([("name", .string(name)), ("type", .string(kind.rawValue)),
                                                                                ("state", "absent"), ("purge", .bool(purge))] + scopeArguments),
                                                                     against: QuadletModule.arguments, module: QuadletModule.name))
            var fake = Observations()
            fake.commands[listingArgv] = listingOutput
            absorb(try quadlet.plan(fake, context))
        }
        let wantedEnvironment = Set(units.compactMap { $0.environmentFile?.name })
        for (name, file) in environment.sorted(by: { $0.key < $1.key }) where file.project == project.name && !wantedEnvironment.contains(name) {
            changes.append(Change("remove \(directory)/\(name)", actions: [.remove(path: directory + "/" + name)]))
        }

        var plan = Plan(changes: (directoryChange.map { [$0] } ?? []) + changes, units: requests)
        plan.result = ValueDict([("project", .string(project.name)), ("mode", "quadlet"), ("state", .string(module.present ? "present" : "absent")),
                                 ("path", .string(directory)), ("services", .dict(services)),
                                 ("units", .list(units.map { .string($0.file) }))])
        // Written units are checked together by the host's own generator first; a converged project costs nothing.
        let written = units.filter { listing.files[$0.file]?.content != Array($0.text.utf8) }
        if !written.isEmpty { plan.steps = [generatorCheck(units, written: written, context)] }
        return plan
    }

    var scopeArguments: [(String, Value)] {
        scope.user.map { [("scope", "user"), ("user", .string($0))] } ?? []
    }

    /// The quadlet module for one unit, with the task's scope and wait.
    func quadletModule(_ unit: ComposeUnit, restartOn: String?) throws -> QuadletModule {
        var arguments: [(String, Value)] = [("name", .string(unit.name)), ("type", .string(unit.kind.rawValue)), ("content", .string(unit.text)),
                                            ("timeout", .int(max(module.timeout, unit.startTimeout ?? 0)))]
        if let restartOn { arguments.append(("restart_on", .list([.string(restartOn)]))) }
        return try QuadletModule(ModuleArguments.validate(ValueDict(arguments + scopeArguments), against: QuadletModule.arguments, module: QuadletModule.name))
    }

    /// Why a running service's container must be made again: its image reference names another image now.
    func imageMoved(_ unit: ComposeUnit, containers: [PodmanProbe.Container], images: [PodmanProbe.Image]) -> String? {
        guard let name = unit.unit.value("Container", "ContainerName"), let reference = unit.unit.value("Container", "Image"),
              let running = containers.first(where: { $0.names.contains(name) && $0.state == "running" }),
              let image = PodmanProbe.find(reference.replacingAll("$$", with: "$").replacingAll("%%", with: "%"), in: images),
              image.id != running.imageID else { return nil }
        return "\(reference) now names another image"
    }

    /// One run of the host's generator over the project's units in a scratch copy of the unit folder.
    func generatorCheck(_ units: [ComposeUnit], written: [ComposeUnit], _ context: ModuleContext) -> HostStep {
        let files = units.map(\.file)
        let check = QuadletProbe.check(scope, file: files[0], managesDropIns: false, standIns: [], wanted: units.map { ($0.file, $0.text) })
        let sample = units.first { $0.kind == .container } ?? units[0]
        let version = try? quadletModule(sample, restartOn: nil)
        let checkMode = context.checkMode
        let names = written.map(\.file).joined(separator: ", ")
        return HostStep("check \(names) with the host's quadlet generator", command: Command(check.argv, label: "podman-system-generator --dryrun (\(names))"),
                        runsInCheckMode: true) { run in
            var complaints: [String] = []
            var podman: String?
            var missing = false
            for file in files {
                switch QuadletProbe.parseCheck(run.output, file: file) {
                case .failed(let found, let errors)?:
                    podman = found
                    complaints += errors.map { "\(file): \($0)" }
                case .passed(let found)?: podman = found
                case .noGenerator(let found)?:
                    podman = found
                    missing = true
                case .same?: break
                case nil: return .failed("could not run the quadlet generator: \(run.output.stderr)")
                }
            }
            if !complaints.isEmpty {
                return .failed("the host's quadlet generator (podman \(podman ?? "?")) rejects the project's units: \(complaints.joined(separator: "; ")); nothing was changed")
            }
            if let problem = version?.versionProblem(podman.flatMap(PodmanVersion.init)) ?? (missing ? "podman has no quadlet generator here" : nil) {
                if checkMode && podman == nil {
                    return StepOutcome(result: ["notes": .list(["podman is not installed yet (an earlier task installs it): the generator checks the units when applying"])])
                }
                return .failed(problem + "; nothing was changed")
            }
            return StepOutcome()
        }
    }

    /// An env file for --diff: its keys, values hidden (env files hold secrets).
    static func masked(_ text: String) -> String {
        text.split(separator: "\n").map { line in
            line.hasPrefix("#") ? String(line) : (line.split(separator: "=", maxSplits: 1).first.map { "\($0)=(hidden)" } ?? "")
        }.joined(separator: "\n") + "\n"
    }
}
