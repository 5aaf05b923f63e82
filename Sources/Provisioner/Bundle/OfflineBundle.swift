import Foundation

/// A verified bundle used by `apply --bundle`: what it holds (CONTENTS), the check that every network
/// need of the play is in it (before any host is touched), the rewrite of the play's tasks to use the
/// bundled copies, and the run-time guard for what could not be told ahead. Package tasks are not rewritten:
/// the package module installs from the bundle's repository itself (`packages`, given it as
/// `RunOptions.offlinePackages` / `ModuleContext.offlinePackages`).
///
/// CONTENTS lines: `image REF<TAB>PATH`, `url URL<TAB>PATH`, `model NAME<TAB>PATH` (the model's manifest in
/// the bundle's Ollama model store, `models/`) and `packages DISTRIBUTION VERSION CODENAME ARCH<TAB>PATH` (the
/// Packages file of the bundle's repository), paths inside the bundle; and in an update bundle (`provision
/// bundle --models NAME`), `expected KIND NAME` for what the play fetches that the host must hold already.
public struct OfflineBundle: Sendable {
    public static let contentsFile = "CONTENTS"
    /// The bundle's Ollama model store (manifests/HOST/NAMESPACE/MODEL/TAG, blobs/sha256-HEX).
    public static let modelsFolder = "models"

    public var directory: String
    public var images: [String: String] = [:]
    public var urls: [String: String] = [:]
    /// The bundle's local package repository, when the play installs packages.
    public var packages: OfflinePackages?
    /// Model (as Ollama writes it, `granite4:latest`) → its manifest inside the bundle.
    public var models: [String: String] = [:]
    /// What an update bundle leaves to the host: `image REF`, `url URL`, `model NAME`.
    public var expected: Set<String> = []

    public init(directory: String, images: [String: String] = [:], urls: [String: String] = [:],
                models: [String: String] = [:], expected: Set<String> = []) {
        self.directory = directory
        self.images = images
        self.urls = urls
        self.models = models
        self.expected = expected
    }

    static func contentsText(images: [String: String], urls: [String: String], models: [String: String] = [:],
                             expected: Set<String> = [], packages: (target: PackageTarget, list: String)? = nil) -> String {
        var lines: [String] = images.sorted { $0.key < $1.key }.map { "image \($0.key)\t\($0.value)" }
        lines += urls.sorted { $0.key < $1.key }.map { "url \($0.key)\t\($0.value)" }
        lines += models.sorted { $0.key < $1.key }.map { "model \($0.key)\t\($0.value)" }
        if let packages { lines.append("packages \(packages.target.contentsKey)\t\(packages.list)") }
        lines += expected.sorted().map { "expected \($0)" }
        return lines.map { $0 + "\n" }.joined()
    }

    /// The manifest path of a model inside the bundle (`models/manifests/registry.ollama.ai/library/granite4/latest`).
    public static func modelManifest(_ name: OllamaModelName) -> String {
        modelsFolder + "/manifests/" + name.manifestPath
    }

    /// Verifies every file against the MANIFEST, then reads CONTENTS.
    public static func open(_ directory: String, progress: (String) -> Void = { _ in }) throws -> OfflineBundle {
        let absolute = URL(fileURLWithPath: directory).standardizedFileURL.path
        let manifest = try BundleManifest.verify(bundle: absolute, progress: progress)
        var bundle = OfflineBundle(directory: absolute)
        guard manifest.entries.contains(where: { $0.path == contentsFile }),
              let text = try? String(contentsOfFile: absolute + "/" + contentsFile, encoding: .utf8) else { return bundle }
        for (number, line) in text.split(separator: "\n").enumerated() {
            if line.hasPrefix("expected ") {
                let what = line.dropFirst(9).split(separator: " ", maxSplits: 1)
                guard what.count == 2, ["image", "url", "model", "package"].contains(what[0]) else {
                    throw BundleError("\(absolute)/\(contentsFile):\(number + 1): malformed line '\(line)'")
                }
                bundle.expected.insert(String(line.dropFirst(9)))
                continue
            }
            let parts = line.split(separator: "\t", maxSplits: 1).map(String.init)
            let head = parts.first?.split(separator: " ", maxSplits: 1).map(String.init) ?? []
            guard parts.count == 2, head.count == 2, manifest.entries.contains(where: { $0.path == parts[1] }) else {
                throw BundleError("\(absolute)/\(contentsFile):\(number + 1): malformed line '\(line)'")
            }
            switch head[0] {
            case "image": bundle.images[head[1]] = parts[1]
            case "url": bundle.urls[head[1]] = parts[1]
            case "packages":
                guard let target = PackageTarget(contentsKey: head[1]),
                      let list = try? String(contentsOfFile: absolute + "/" + parts[1], encoding: .utf8) else {
                    throw BundleError("\(absolute)/\(contentsFile):\(number + 1): malformed packages line '\(line)'")
                }
                bundle.packages = OfflinePackages(repository: absolute + "/" + (parts[1] as NSString).deletingLastPathComponent,
                                                  target: target, names: OfflinePackages.names(inPackagesFile: list))
            case "model": bundle.models[head[1]] = parts[1]
            default: throw BundleError("\(absolute)/\(contentsFile):\(number + 1): unknown kind '\(head[0])'")
            }
        }
        return bundle
    }

    /// Each need the bundle cannot meet, as "offline: … is not in the bundle" with its location.
    public func missing(_ needs: [NetworkNeed]) -> [String] {
        needs.compactMap { need in
            switch need.kind {
            case .image(let name) where images[name] == nil && !expected.contains("image \(name)"):
                return "\(need.location): offline: image \(name) is not in the bundle"
            case .url(let url, _) where urls[url] == nil && !expected.contains("url \(url)"):
                return "\(need.location): offline: \(url) is not in the bundle"
            case .packages(let names, _):
                let absent = names.filter { !(packages?.names.contains($0) ?? false) && !expected.contains("package \($0)") }
                guard !absent.isEmpty else { return nil }
                return "\(need.location): offline: package \(absent.joined(separator: ", ")) is not in the bundle"
            case .model(let name) where models[name] == nil && !expected.contains("model \(name)"):
                return "\(need.location): offline: model \(name) is not in the bundle"
            case .unbundleable(let why):
                return "\(need.location): offline: \(need.module) reaches the network and is not in the bundle (\(why))"
            case .unresolved where need.isUnresolvedUnitImage:
                return nil
            case .unresolved(let why):
                return "\(need.location): offline: cannot tell whether what \(need.module) fetches is in the bundle: \(why)"
            default:
                return nil
            }
        }
    }

    // MARK: Rewriting the play

    /// The play with bundled copies in place of downloads: `image` tasks load the bundled archive,
    /// `get_url` becomes `copy` from the bundle, and a `container`/`quadlet` task is preceded by the
    /// load of its bundled image. Call after `missing` found nothing.
    public func rewrite(_ playbook: Playbook, extraVars: ValueDict) throws -> Playbook {
        var result = playbook
        for index in result.plays.indices {
            let play = result.plays[index]
            result.plays[index].tasks = try rewrite(play.tasks, play: play, extraVars: extraVars)
            result.plays[index].handlers = try play.handlers.flatMap { try rewrite($0, play: play, extraVars: extraVars) }
        }
        return result
    }

    func rewrite(_ items: [TaskItem], play: Play, extraVars: ValueDict) throws -> [TaskItem] {
        try items.flatMap { item -> [TaskItem] in
            switch item {
            case .task(let task): return try rewrite(task, play: play, extraVars: extraVars).map { .task($0) }
            case .block(var block):
                block.tasks = try rewrite(block.tasks, play: play, extraVars: extraVars)
                block.rescue = try rewrite(block.rescue, play: play, extraVars: extraVars)
                block.always = try rewrite(block.always, play: play, extraVars: extraVars)
                if var role = block.role {
                    role.handlers = try role.handlers.flatMap { try rewrite($0, play: play, extraVars: extraVars) }
                    block.role = role
                }
                return [.block(block)]
            case .include(var include):
                if case .loaded(let loaded)? = include.preloaded {
                    include.preloaded = .loaded(try rewrite(loaded, play: play, extraVars: extraVars))
                }
                return [.include(include)]
            }
        }
    }

    func path(_ inside: String) -> Value { .unsafe(.string(directory + "/" + inside)) }

    func rewrite(_ task: Task, play: Play, extraVars: ValueDict) throws -> [Task] {
        let needs = NetworkNeed.of(task, play: play, extraVars: extraVars)
        guard !needs.isEmpty, var args = task.arguments.dict else { return [task] }
        let fetched: [String] = needs.compactMap {
            switch $0.kind {
            case .image(let name): return name
            case .url(let url, _): return url
            default: return nil
            }
        }
        let distinct = Array(Set(fetched)).sorted()
        switch task.module {
        case "image" where distinct.allSatisfy({ images[$0] == nil && expected.contains("image \($0)") }),
             "get_url" where distinct.allSatisfy({ urls[$0] == nil && expected.contains("url \($0)") }):
            // An update bundle leaves it to the host: the task runs as written, and fails offline if it would fetch.
            return [task]
        case "image":
            guard task.loop == nil, let name = distinct.first, let archive = images[name] else {
                throw BundleError("\(task.moduleLocation): offline: an image task with a loop is not rewritten to its bundled archives yet; write one task per image")
            }
            args["archive"] = path(archive)
            args["remote_src"] = false
            args["pull"] = "missing"
            var rewritten = task
            rewritten.arguments = .dict(args)
            return [rewritten]
        case "get_url":
            guard task.loop == nil, let url = distinct.first, let file = urls[url] else {
                throw BundleError("\(task.moduleLocation): offline: a get_url task with a loop is not rewritten to its bundled files yet; write one task per URL")
            }
            // The bundled file is named as the URL's last path segment, so a directory dest gets the same name.
            var copy = ValueDict([("src", path(file))])
            for key in ["dest", "mode", "owner", "group", "backup", "seuser", "serole", "setype", "selevel", "attributes", "unsafe_writes"] {
                if let value = args[key] { copy[key] = value }
            }
            copy["force"] = args["checksum"] != nil ? true : (args["force"] ?? false)
            var rewritten = task
            rewritten.module = "copy"
            rewritten.moduleAsWritten = "copy"
            rewritten.arguments = .dict(copy)
            return [rewritten]
        case "container", "quadlet":
            var loads: [Task] = []
            for name in distinct {
                guard let archive = images[name] else { continue }
                var load = task
                var loadArgs = ValueDict([("name", .unsafe(.string(name))), ("archive", path(archive))])
                for key in ["scope", "user"] { if let value = args[key] { loadArgs[key] = value } }
                load.name = "offline: load \(name) from the bundle"
                load.module = "image"
                load.moduleAsWritten = "image"
                load.arguments = .dict(loadArgs)
                (load.loop, load.register, load.notify, load.changedWhen, load.failedWhen, load.until) = (nil, nil, [], nil, nil, nil)
                load.common.when = []
                loads.append(load)
            }
            return loads + [task]
        default:
            return [task]
        }
    }

    // MARK: Run-time guard

    /// The arguments a task runs with offline: an `ollama_model` pull of a bundled model becomes an import from
    /// the bundle's model store (every blob's sha256 checked by the module); anything else is left as it is.
    public func substituted(module: String, _ arguments: ModuleArguments) -> ModuleArguments {
        guard module == "ollama_model", arguments.string("state") != "absent", (arguments.string("source") ?? "registry") == "registry",
              let name = arguments.string("name").flatMap(OllamaModelName.init), models[name.shortest] != nil else { return arguments }
        var values = arguments.values
        values["source"] = .string(directory + "/" + OfflineBundle.modelsFolder)
        values["remote_src"] = false
        return ModuleArguments(values)
    }

    /// Why a task must not run offline, judged on its rendered arguments and plan: a module that would
    /// reach the network for something not taken from the bundle. Nil when it may run.
    /// `packagesBundled`: the bundle holds a package repository, and the package module installs from it itself.
    public static func refusal(module: String, arguments: ModuleArguments, plan: Plan, packagesBundled: Bool = false) -> String? {
        if module == "ollama_model", plan.isChanged || !plan.steps.isEmpty, arguments.string("state") != "absent",
           (arguments.string("source") ?? "registry") == "registry" {
            let name = arguments.string("name") ?? "?"
            return "offline: model \(OllamaModelName(name)?.shortest ?? name) is not in the bundle (the host does not hold it, and it would be pulled)"
        }
        let acts = plan.isChanged || !plan.steps.isEmpty
        if let why = NetworkNeed.unbundleableModules[module] {
            return "offline: \(module) reaches the network and is not in the bundle (\(why))"
        }
        switch module {
        case "package" where acts && arguments.string("state") != "absent" && !packagesBundled:
            let names = arguments.strings("name")?.joined(separator: ", ") ?? "?"
            return "offline: package \(names) is not in the bundle (the bundle holds no packages)"
        case "image" where acts && arguments.string("archive") == nil && arguments.string("state") != "absent":
            return "offline: image \(arguments.string("name") ?? "?") is not in the bundle"
        case "get_url" where acts:
            return "offline: \(arguments.string("url") ?? "?") is not in the bundle"
        case "unarchive" where acts && (arguments.string("src") ?? "").contains("://"):
            return "offline: \(arguments.string("src") ?? "?") is not in the bundle"
        case _ where acts && ["apt_repository", "deb822_repository", "yum_repository"].contains(module):
            return "offline: \(module) would reach a package mirror, which is not in the bundle"
        default:
            return nil
        }
    }
}

extension OfflineBundle {
    /// The playbook to run: PATH inside the bundle, or PATH taken relative to the bundle's project/.
    func playbook(_ path: String) -> String {
        let given = URL(fileURLWithPath: path).standardizedFileURL.path
        if given.hasPrefix(directory + "/") { return given }
        return directory + "/" + BundleCollector.projectFolder + "/" + path
    }

    /// Checks every need of the play against the bundle (all problems at once, before any host is
    /// contacted), then rewrites the play to use the bundled copies.
    func prepare(_ playbook: Playbook, extraVars: ValueDict) throws -> Playbook {
        guard playbook.file.hasPrefix(directory + "/") else {
            throw BundleError("\(playbook.file): apply --bundle runs the bundle's own (verified) playbook, and this one is outside \(directory)")
        }
        let problems = missing(NetworkNeed.collect(playbook, extraVars: extraVars))
        guard problems.isEmpty else {
            throw BundleError(problems.joined(separator: "\n") + "\n\(problems.count) problem(s): nothing was changed")
        }
        return try rewrite(playbook, extraVars: extraVars)
    }
}
