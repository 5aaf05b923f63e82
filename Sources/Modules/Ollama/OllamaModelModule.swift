import Provisioner

/// A model present in an Ollama server that runs in a podman container (DESIGN §8), or absent from it.
/// `source: registry` pulls it through the server (`ollama pull`, POST /api/pull), showing progress while it
/// runs; `source: DIR` imports it from an Ollama model store folder, with no network: every blob is checked
/// against its sha256 before it is used, and the blobs and the manifest go in together, the manifest last.
/// What the server holds is read with `GET /api/tags` in the host's one round trip, so a converged host
/// neither pulls nor imports.
struct OllamaModelModule: Module {
    static let name = "ollama_model"
    static let summary = "A model in an Ollama server's container: pulled through it, imported from a model store folder, or removed"
    static let arguments: [ArgumentSpec] = [
        ArgumentSpec("name", .string, required: true, doc: "the model as Ollama writes it: granite4:latest, qwen2.5-coder:7b, NAMESPACE/MODEL:TAG (no tag: latest)"),
        ArgumentSpec("instance", .string, required: true, doc: "the container the Ollama server runs in (its quadlet's ContainerName)"),
        ArgumentSpec("state", .string, default: "present", choices: ["present", "absent"], doc: "present: pulled or imported when missing; absent: removed (ollama rm)"),
        ArgumentSpec("source", .string, default: "registry",
                     doc: "registry: pulled through the instance (POST /api/pull); or a model store folder (manifests/, blobs/sha256-*) imported offline, every blob's sha256 checked"),
        ArgumentSpec("remote_src", .bool, default: false, doc: "the source folder is on the host (absolute path); otherwise it is on the controller and is copied"),
        ArgumentSpec("port", .port, doc: "the instance's API port on `address`: its models are read with GET /api/tags there (over bash's /dev/tcp, milliseconds); without it, or without bash, through podman exec INSTANCE ollama list"),
        ArgumentSpec("address", .string, default: "127.0.0.1", doc: "where `port` is published on the host"),
        ArgumentSpec("timeout", .int, default: 3600, doc: "seconds a pull may take (it goes on in the background after that; the next run waits for it)"),
        ArgumentSpec("wait", .int, default: 120, doc: "seconds to wait for an instance that runs but does not answer yet"),
    ] + PodmanScope.specs

    enum Source: Equatable { case registry, folder(String) }

    let model: OllamaModelName
    let instance: String
    let present: Bool
    let source: Source
    let remoteSource: Bool
    let port: Int?
    let address: String
    let timeout: Int
    let wait: Int
    let scope: PodmanScope

    init(_ arguments: ModuleArguments) throws {
        let text = arguments.string("name") ?? ""
        guard let model = OllamaModelName(text) else {
            throw ModuleError("'\(text)' is not an Ollama model name (MODEL:TAG, NAMESPACE/MODEL:TAG or HOST/NAMESPACE/MODEL:TAG; "
                              + "letters, digits, _ - . only)", argument: "name")
        }
        self.model = model
        instance = arguments.string("instance") ?? ""
        guard PodmanScope.isContainerName(instance) else {
            throw ModuleError("'\(instance)' is not a container name (letters, digits, _ . -, starting with a letter or digit)", argument: "instance")
        }
        present = arguments.string("state") != "absent"
        let source = arguments.string("source") ?? "registry"
        self.source = source == "registry" ? .registry : .folder(source.hasSuffix("/") && source.count > 1 ? String(source.dropLast()) : source)
        remoteSource = arguments.bool("remote_src")
        port = arguments.int("port")
        address = arguments.string("address") ?? "127.0.0.1"
        timeout = arguments.int("timeout") ?? 3600
        wait = arguments.int("wait") ?? 120
        scope = try PodmanScope(arguments)
        guard !address.isEmpty, address.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || ".:-_".contains($0)) }) else {
            throw ModuleError("'\(address)' is not an address (an IP address or host name)", argument: "address")
        }
        if timeout < 1 { throw ModuleError("timeout must be at least 1 second", argument: "timeout") }
        if wait < 0 { throw ModuleError("wait must be 0 or more seconds", argument: "wait") }
        if case .folder(let folder) = self.source {
            if !present { throw ModuleError("source is where a model comes from; state: absent takes no source", argument: "source") }
            if remoteSource && !folder.hasPrefix("/") {
                throw ModuleError("with remote_src: true, source must be an absolute path on the host: '\(folder)'", argument: "source")
            }
        } else if remoteSource {
            throw ModuleError("remote_src: true needs source: a model store folder on the host", argument: "remote_src")
        }
    }

    // MARK: Observations

    var listing: Observation { OllamaInstance.listing(instance, address: address, port: port, scope: scope) }

    /// The source's manifest for this model.
    var manifestPath: String? {
        guard case .folder(let folder) = source else { return nil }
        return folder + "/manifests/" + model.manifestPath
    }

    func observations(_ context: ModuleContext) -> [Observation] {
        [listing] + (remoteSource ? manifestPath.map { [.file(path: $0, content: true)] } ?? [] : [])
    }

    var controllerFiles: [(path: String, kind: ControllerFileKind)] {
        guard present, !remoteSource, let manifestPath else { return [] }
        return [(manifestPath, .file)]
    }

    // MARK: Plan

    func plan(_ observed: Observations, _ context: ModuleContext) throws -> Plan {
        let state = OllamaInstance.parseListing(observed.command(listing.argv))
        var result = ValueDict([("name", .string(model.shortest)), ("instance", .string(instance)),
                                ("state", .string(present ? "present" : "absent"))])
        if present { result["source"] = .string(sourceText) }
        let manifest = try sourceManifest(observed, context)
        if let manifest { result["source_digest"] = .string(manifest.digest) }
        switch state {
        case .answering(let models):
            let found = models.first { $0.name.matches(model) }
            if let found { result["digest"] = .string(found.digest) }
            guard present else {
                guard found != nil else { return Plan(result: result) }
                return Plan(changes: [Change("remove \(model) from \(instance)", diff: diff(found?.digest, nil),
                                             actions: [.run(scope.podmanCommand(["exec", instance, "ollama", "rm", model.shortest]))])],
                            result: result)
            }
            if let found {
                guard let manifest, !manifest.isListed(as: found.digest) else { return Plan(result: result) }
                return try importPlan(manifest, context, result: result,
                                      reason: " (\(instance) has \(found.digest.prefix(12)), the source \(manifest.digest.prefix(12)))")
            }
            if let manifest { return try importPlan(manifest, context, result: result) }
            return Plan(changes: [pullChange()], result: result, steps: pullSteps())
        case .failed(let text):
            return .failed("reading the models of \(instance) failed: \(text)")
        case .podmanMissing, .userMissing, .absent, .down:
            let why = reason(state)
            guard present else {
                if case .down = state { return .failed("cannot tell whether \(instance) holds \(model): \(why)") }
                return Plan(result: result)
            }
            if context.checkMode {
                var plan = try manifest.map { try importPlan($0, context, result: result) } ?? Plan(changes: [pullChange()], result: result)
                let note = { if case .down = state { return " (\(why))" } else { return " (\(why) yet)" } }()
                for index in plan.changes.indices { plan.changes[index].summary += note }
                return plan
            }
            guard case .down = state else {
                let hint = { if case .absent = state { return ": start its quadlet first (quadlet with started: true)" } else { return "" } }()
                return .failed("cannot put \(model) into \(instance): \(why)\(hint)")
            }
            // Running but not answering (starting): wait for it, then pull or import what is still missing.
            if let manifest {
                var plan = try importPlan(manifest, context, result: result)
                plan.steps = [waitStep(then: nil)]
                return plan
            }
            return Plan(result: result, steps: [waitStep(then: pullSteps())])
        }
    }

    var sourceText: String {
        if case .folder(let folder) = source { return folder }
        return "registry"
    }

    func reason(_ state: OllamaInstance.State) -> String {
        switch state {
        case .podmanMissing: return "podman is not installed"
        case .userMissing: return "there is no user \(scope.user ?? "")"
        case .absent: return "there is no container \(instance) in \(scope.owner) podman"
        case .down(let text): return "\(instance) does not answer (\(text.split(separator: "\n").last.map(String.init) ?? text))"
        case .failed(let text): return text
        case .answering: return ""
        }
    }

    func diff(_ before: String?, _ after: String?) -> TextDiff {
        TextDiff(label: "\(instance): \(model)", before: before.map { "present: \($0.prefix(12))\n" } ?? "absent\n",
                 after: after.map { "present: \($0.prefix(12))\n" } ?? "absent\n")
    }

    /// The source's manifest, read from the controller or the host; nil for the registry.
    func sourceManifest(_ observed: Observations, _ context: ModuleContext) throws -> OllamaManifest? {
        guard present, let path = manifestPath else { return nil }
        if !remoteSource { return try OllamaManifest(try context.readControllerFile(path, .file), path: path) }
        guard let content = observed.file(path)?.content else {
            throw ModuleError("\(path) does not exist on the host: the source has no \(model) (is it an Ollama model store folder?)", argument: "source")
        }
        return try OllamaManifest(content, path: path)
    }

    // MARK: Pulls

    func pullChange() -> Change {
        Change("pull \(model) into \(instance)", diff: diff(nil, "pulled"), actions: [])
    }

    /// The pull's log and status files on the host: one per instance, user and model.
    var pullKey: String {
        instance + "-" + SHA256.hex(Array((model.manifestPath + "\n" + (scope.user ?? "")).utf8)).prefix(16)
    }

    /// Starts the pull in the background, then follows it every second until it ends.
    func pullSteps() -> [HostStep] {
        let summary = "pull \(model) into \(instance)"
        let user = scope.user ?? ""
        let poll = HostStep(summary, command: Command(["/bin/sh", "-c", OllamaInstance.pollScript, "ollama-pull-poll", pullKey], label: "follow the pull of \(model)"),
                            poll: HostStep.Poll(delay: 0.3, interval: 1, timeout: Double(timeout))) { [model, instance, timeout] run in
            guard let poll = OllamaInstance.parsePoll(run.output) else {
                return .failed("following the pull of \(model) failed: \(run.output.stderr.isEmpty ? run.output.stdout : run.output.stderr)")
            }
            switch poll {
            case .running(let log):
                let last = OllamaInstance.logLines(log).last
                return StepOutcome(satisfied: false, failure: run.isLast ? "\(model) is still being pulled into \(instance) after \(timeout) s "
                                   + "(\(last ?? "no progress yet")); the pull goes on, and the next run waits for it" : nil, progress: last)
            case .finished(0, let log):
                let lines = OllamaInstance.logLines(log)
                return StepOutcome(changed: true, result: ValueDict([("pulled", true), ("status_lines", .list(lines.map(Value.string)))]))
            case .finished(let status, let log):
                return OllamaModelModule.pullFailure(model, instance, log, otherwise: "it exited with status \(status)")
            case .gone(let log):
                return OllamaModelModule.pullFailure(model, instance, log, otherwise: "it ended without a result (did \(instance) restart?)")
            }
        }
        let start = HostStep(summary, command: Command(["/bin/sh", "-c", OllamaInstance.startScript, "ollama-pull", pullKey, instance, model.shortest, user],
                                                       label: "start \(scope.user.map { "as \($0): " } ?? "")podman exec \(instance) ollama pull \(model)")) { [model] run in
            guard run.output.status == 0 else { return .failed("starting the pull of \(model) failed: \(run.output.stderr)\(run.output.stdout)") }
            return StepOutcome(next: [poll])
        }
        return [start]
    }

    /// The CLI's own error line (`Error: pull model manifest: file does not exist`), or `otherwise`.
    static func pullFailure(_ model: OllamaModelName, _ instance: String, _ log: String, otherwise: String) -> StepOutcome {
        let lines = OllamaInstance.logLines(log)
        let error = lines.last { $0.hasPrefix("Error:") }.map { String($0.dropFirst(6)).trimmingCharacters(in: .whitespaces) }
        return .failed("pulling \(model) into \(instance) failed: \(error ?? otherwise)",
                       result: ValueDict([("status_lines", .list(lines.map(Value.string)))]))
    }

    /// Waits until the instance answers; then runs `then` unless the model is there already.
    func waitStep(then: [HostStep]?) -> HostStep {
        HostStep("wait until \(instance) answers", command: Command(listing.argv), poll: HostStep.Poll(interval: 1, timeout: Double(wait))) { [model, instance, wait] run in
            guard case .answering(let models) = OllamaInstance.parseListing(run.output) else {
                let text = run.output.stdout.split(separator: "\n").last.map(String.init) ?? ""
                return StepOutcome(satisfied: false, failure: run.isLast ? "\(instance) did not answer within \(wait) s (\(text))" : nil)
            }
            if let found = models.first(where: { $0.name.matches(model) }) {
                return StepOutcome(result: ValueDict([("digest", .string(found.digest))]))
            }
            return StepOutcome(next: then ?? [])
        }
    }

    // MARK: Imports

    func importChange(_ manifest: OllamaManifest, reason: String) -> Change {
        Change("import \(model) into \(instance) from \(sourceText)\(reason): \(manifest.blobs.count) blobs, \(manifest.totalSize.decimalBytes), sha256 verified",
               diff: diff(nil, manifest.digest), actions: [])
    }

    /// Every blob checked against its digest (here for a controller folder, on the host for a host one, and
    /// on the host again after the copy), then the import script writes blobs and manifest into the instance.
    func importPlan(_ manifest: OllamaManifest, _ context: ModuleContext, result: ValueDict, reason: String = "") throws -> Plan {
        guard case .folder(let folder) = source else { return Plan(result: result) }
        var change = importChange(manifest, reason: reason)
        var actions: [Action] = []
        var origin = folder
        if !remoteSource {
            origin = "/var/tmp/.provision-ollama-import-\(pullKey)"
            let owner = FileAttributes(mode: 0o700)
            actions.append(.remove(path: origin))
            actions.append(.makeDirectory(path: origin + "/blobs", attributes: owner))
            for blob in manifest.blobs {
                let path = folder + "/blobs/" + blob.file
                let bytes = try context.readControllerFile(path, .file)
                guard bytes.count == blob.size else {
                    return .failed("\(path) is \(bytes.count) bytes, not \(blob.size) as the manifest says: refused, nothing was imported")
                }
                let have = SHA256.hex(bytes)
                guard have == blob.hex else {
                    return .failed("\(path) does not match its digest (its sha256 is \(have)): refused, nothing was imported")
                }
                actions.append(.writeFile(path: origin + "/blobs/" + blob.file, content: bytes, attributes: FileAttributes(mode: 0o600), backup: false))
            }
            let manifestCopy = origin + "/manifests/" + model.manifestPath
            actions.append(.makeDirectory(path: String(manifestCopy[..<(manifestCopy.lastIndex(of: "/") ?? manifestCopy.endIndex)]), attributes: owner))
            actions.append(.writeFile(path: manifestCopy, content: manifest.bytes, attributes: FileAttributes(mode: 0o600), backup: false))
        }
        var argv = ["/bin/sh", "-c", OllamaInstance.importScript, "ollama-import", instance, origin, model.manifestPath,
                    remoteSource ? "0" : "1", scope.user ?? "", String(manifest.blobs.count)]
        for blob in manifest.blobs { argv += [blob.hex, String(blob.size)] }
        argv.append(String(manifest.bytes.count))
        actions.append(.run(scope.labeled(argv, "check the sha256 of \(manifest.blobs.count) blobs, then copy them and the manifest into \(instance)")))
        change.actions = actions
        return Plan(changes: [change], result: result)
    }
}

extension PodmanScope {
    /// Podman's container names: `[a-zA-Z0-9][a-zA-Z0-9_.-]*`.
    static func isContainerName(_ name: String) -> Bool {
        guard let first = name.first, first.isASCII, first.isLetter || first.isNumber else { return false }
        return name.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "_.-".contains($0)) }
    }
}
