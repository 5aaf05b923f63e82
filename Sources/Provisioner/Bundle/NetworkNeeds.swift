import Foundation

/// What a play would fetch from the network, found by walking its tasks with the values known ahead
/// (role defaults, play vars, role vars, task vars, extra vars and literal loops). `provision bundle`
/// collects these; `apply --bundle` checks each one is in the bundle before any host is touched.
public struct NetworkNeed: Equatable, CustomStringConvertible {
    public enum Kind: Equatable {
        /// A container image a task pulls (`image` without `archive`, `container`, a quadlet's Image=).
        case image(String)
        /// A `get_url` download; checksum as written (`sha256:…`), if any.
        case url(String, checksum: String?)
        /// An Ollama model an `ollama_model` task pulls (`source: registry`), as Ollama writes its name.
        case model(String)
        /// Packages installed from a mirror; `recommends`: apt would take their Recommends (install_recommends not false).
        case packages([String], recommends: Bool)
        /// A module that reaches the network for data a bundle cannot carry yet.
        case unbundleable(String)
        /// A reference that depends on run-time values (facts, registered results).
        case unresolved(String)
    }

    public var kind: Kind
    public var module: String
    public var location: SourceLocation

    /// A container or quadlet whose image cannot be told ahead: its image is expected from an `image`
    /// task (bundled) or the host; the offline run does not stop for it ahead.
    public var isUnresolvedUnitImage: Bool {
        if case .unresolved = kind { return ["container", "quadlet"].contains(module) }
        return false
    }

    public var description: String {
        switch kind {
        case .image(let name): return "\(location): image \(name)"
        case .model(let name): return "\(location): model \(name)"
        case .url(let url, _): return "\(location): \(module) \(url)"
        case .packages(let names, _): return "\(location): packages \(names.joined(separator: ", "))"
        case .unbundleable(let why), .unresolved(let why): return "\(location): \(module): \(why)"
        }
    }

    /// Modules that reach the network with no data a bundle carries (checked ahead, and refused at run
    /// time too by `OfflineBundle.guarding`).
    static let unbundleableModules: [String: String] = [
        "uri": "HTTP requests cannot be answered from a bundle",
        "git": "repositories are not bundled yet",
        "pip": "Python packages are not bundled yet",
        "apt_key": "keys fetched by URL are not bundled yet",
        "rpm_key": "keys fetched by URL are not bundled yet",
    ]

    /// Every need of `playbook`, in task order.
    public static func collect(_ playbook: Playbook, extraVars: ValueDict) -> [NetworkNeed] {
        var needs: [NetworkNeed] = []
        for play in playbook.plays {
            var tasks: [Task] = []
            gather(play.tasks, into: &tasks)
            tasks += play.handlers
            for task in tasks { needs += of(task, play: play, extraVars: extraVars) }
        }
        return needs
    }

    static func gather(_ items: [TaskItem], into tasks: inout [Task]) {
        for item in items {
            switch item {
            case .task(let task): tasks.append(task)
            case .block(let block):
                gather(block.tasks + block.rescue + block.always, into: &tasks)
                tasks += block.role?.handlers ?? []
            case .include(let include):
                if case .loaded(let loaded)? = include.preloaded { gather(loaded, into: &tasks) }
            }
        }
    }

    /// The variables known before any host is contacted, lowest precedence first.
    static func variables(_ task: Task, play: Play, extraVars: ValueDict) -> ValueDict {
        var vars = ValueDict([("omit", .string(Templar.omit))])
        vars = vars.merging(play.roleDefaults).merging(task.common.role?.defaults ?? ValueDict())
        vars = vars.merging(play.vars).merging(play.roleVars).merging(task.common.role?.vars ?? ValueDict())
        return vars.merging(task.common.vars).merging(extraVars)
    }

    /// The task's arguments rendered once per loop item; nil when they depend on run-time values.
    static func renderedArguments(_ task: Task, play: Play, extraVars: ValueDict) -> [ValueDict]? {
        let vars = variables(task, play: play, extraVars: extraVars)
        var items: [ValueDict] = [vars]
        if let loop = task.loop {
            guard task.loopWith == nil || task.loopWith == "items",
                  let list = (try? Templar(variables: vars).render(loop))?.list else { return nil }
            let flattened = task.loopWith == "items" ? list.flatMap { $0.list ?? [$0] } : list
            items = flattened.map { vars.merging(ValueDict([(task.loopControl.loopVar, $0)])) }
        }
        var rendered: [ValueDict] = []
        for item in items {
            guard let value = try? Templar(variables: item).render(task.arguments), let args = value.dict,
                  !args.contains(where: { $0.value.needsRendering }) else { return nil }
            rendered.append(args)
        }
        return rendered
    }

    static func given(_ args: ValueDict, _ key: String) -> String? {
        guard let text = args[key]?.string ?? args[key].map({ $0.pythonText }), !text.isEmpty, text != Templar.omit,
              args[key] != .null else { return nil }
        return text
    }

    static func of(_ task: Task, play: Play, extraVars: ValueDict) -> [NetworkNeed] {
        let location = task.moduleLocation
        func need(_ kind: Kind) -> NetworkNeed { NetworkNeed(kind: kind, module: task.module, location: location) }
        if let why = unbundleableModules[task.module] { return [need(.unbundleable(why))] }
        guard ["image", "container", "quadlet", "get_url", "package", "unarchive", "ollama_model"].contains(task.module) else { return [] }
        guard let items = renderedArguments(task, play: play, extraVars: extraVars) else {
            return [need(.unresolved("its arguments depend on run-time values (facts, registered results), so the bundle cannot tell what it fetches"))]
        }
        var needs: [NetworkNeed] = []
        for args in items {
            let absent = given(args, "state") == "absent"
            switch task.module {
            case "image" where !absent && given(args, "archive") == nil && given(args, "pull") != "never":
                if let name = given(args, "name") { needs.append(need(.image(name))) }
            case "container" where !absent:
                if let image = given(args, "image") { needs.append(need(.image(image))) }
            case "quadlet" where !absent:
                if let container = args["sections"]?.dict?["Container"]?.dict, let image = container["Image"]?.string {
                    // An image built by a .build unit or one an image task loads is not fetched.
                    if !image.hasSuffix(".image") && !image.hasSuffix(".build") { needs.append(need(.image(image))) }
                }
            case "ollama_model" where !absent && (given(args, "source") ?? "registry") == "registry":
                if let name = given(args, "name") { needs.append(need(.model(OllamaModelName(name)?.shortest ?? name))) }
            case "get_url":
                if let url = given(args, "url") { needs.append(need(.url(url, checksum: given(args, "checksum")))) }
            case "package" where !absent:
                let key = ["name", "pkg", "package"].first { args[$0] != nil } ?? "name"
                let names = (args[key]?.list?.compactMap(\.string) ?? given(args, key).map { $0.split(separator: ",").map(String.init) } ?? [])
                    .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
                let recommends = !["false", "no", "off", "0"].contains((given(args, "install_recommends") ?? given(args, "install-recommends") ?? "").lowercased())
                if !names.isEmpty { needs.append(need(.packages(names, recommends: recommends))) }
            case "unarchive":
                if let src = given(args, "src"), src.contains("://") { needs.append(need(.unbundleable("archives fetched by URL are not bundled yet"))) }
            default: break
            }
        }
        return needs
    }
}
