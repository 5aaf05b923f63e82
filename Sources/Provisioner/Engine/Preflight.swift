/// Checks done before anything changes: every task's arguments against its
/// module's declaration (names always, values when they hold no template),
/// then, per host, everything that renders without run-time results.
extension EngineContext {
    func validate(_ playbook: Playbook) throws {
        for play in playbook.plays {
            let handlerNames = play.handlers.flatMap { [$0.name].compactMap { $0 } + $0.listen }
            for item in play.tasks + play.handlers.map(TaskItem.task) { try validate(item, handlers: handlerNames) }
        }
    }

    func validate(_ item: TaskItem, handlers: [String]) throws {
        switch item {
        case .block(let block):
            for inner in block.tasks + block.rescue + block.always { try validate(inner, handlers: handlers) }
        case .include:
            break
        case .task(let task):
            for name in task.notify where !handlers.contains(name) && !name.contains("{{") {
                throw PreflightError("\(task.notifyLocation ?? task.common.location): no handler '\(name)' in this play"
                    + Suggestion.hint(for: name, in: handlers))
            }
            guard let type = registry.types[task.module] else { return }
            var arguments = task.arguments
            if case .string(let text) = arguments, !text.contains("{{") {
                do {
                    arguments = .dict(try KeyValueArguments.parse(text, freeForm: type.freeFormArgument, names: type.arguments.map(\.name)))
                } catch let e as ArgumentError {
                    throw PreflightError("\(task.moduleLocation): \(e.message)")
                }
            }
            if case .dict(let args) = arguments, args["_raw_params"]?.containsTemplate == false {
                arguments = .dict(try KeyValueArguments.expand(args, freeForm: type.freeFormArgument, names: type.arguments.map(\.name)))
            }
            switch arguments {
            case .dict(let args) where args["_raw_params"] == nil:
                let templated = Set(args.filter { $0.value.containsTemplate }.map(\.key))
                do {
                    _ = try ModuleArguments.validate(args, against: type.arguments, module: task.moduleAsWritten, templated: templated)
                } catch let e as ArgumentError {
                    let location = e.argument.flatMap { task.argumentLocations[$0] } ?? task.moduleLocation
                    throw PreflightError("\(location): \(e.message)")
                }
            default:
                break
            }
        }
    }

    /// Names that tasks define while running (register, set_fact, include_vars, a facts module's
    /// facts): an undefined variable among them is not an error before the run.
    static func runtimeNames(_ items: [TaskItem], registry: ModuleRegistry? = nil) -> (names: Set<String>, open: Bool) {
        var names = Set<String>()
        var open = false
        func visit(_ item: TaskItem) {
            switch item {
            case .task(let task):
                if let r = task.register { names.insert(r) }
                if task.module == EngineAction.setFact.rawValue { names.formUnion(task.arguments.dict?.keys ?? []) }
                if task.module == EngineAction.includeVars.rawValue || registry?.types[task.module]?.returnsFacts == true { open = true }
            case .block(let b): (b.tasks + b.rescue + b.always).forEach(visit)
            case .include: open = true
            }
        }
        items.forEach(visit)
        return (names, open)
    }
}

extension HostRun {
    /// Renders every task that can be rendered now, validates its arguments, and
    /// reads all their observations in one round trip. Errors here stop the run
    /// before anything changed, unless they involve names defined at run time.
    func prefetch(runtimeNames: (names: Set<String>, open: Bool)) throws {
        // Per user the tasks run as, then per task.
        var requests: [String: (become: Become?, byTask: [(task: String, observations: [Observation])])] = [:]
        func collect(_ task: Task, _ type: any Module.Type, _ templar: Templar, key: String) throws {
            if try firstFalse(task.common.when, templar) != nil { return }
            let module = try type.init(try engine.validatedArguments(task, type: type, templar: templar))
            let checkMode = try task.common.checkMode.map { try isTrue($0, templar) } ?? engine.options.checkMode
            if checkMode && !type.supportsCheckMode { return }
            let context = engine.moduleContext(task: task, templar: templar, facts: facts, checkMode: checkMode, playDirectory: play.directory)
            for file in module.controllerFiles { _ = try context.readControllerFile(file.path, file.kind) }
            // Only the play's own user: another user's session may not be possible yet
            // (its account may be created by an earlier task); those tasks observe when they run.
            let runAs = try become(task.common)
            guard HostRun.key(runAs) == HostRun.key(try become(nil)) else { return }
            requests[HostRun.key(runAs), default: (runAs, [])].byTask.append((key, module.observations(context)))
        }
        func visit(_ item: TaskItem) throws {
            switch item {
            case .block(let b): try (b.tasks + b.rescue + b.always).forEach(visit)
            case .include: return
            case .task(let task):
                guard engine.tagsSelect(task.common.tags), let type = engine.registry.types[task.module] else { return }
                let vars = scope(task.common)
                let templar = makeTemplar(vars, task.common)
                do {
                    if let loop = task.loop {
                        for (index, item) in try loopItems(loop, templar).enumerated() {
                            try collect(task, type, makeTemplar(vars.merging(loopVariables(task, item, index)), task.common),
                                        key: "\(task.common.location)#\(index)")
                        }
                    } else {
                        try collect(task, type, templar, key: task.common.location.description)
                    }
                } catch let e as TemplateError {
                    if let name = e.undefinedVariable, runtimeNames.open || runtimeNames.names.contains(name) { return }
                    throw PreflightError(describe(e, task: task))
                } catch {
                    // Nothing here depends on the host yet: a bad argument or loop is a bad playbook.
                    throw PreflightError(describe(error, task: task))
                }
            }
        }
        for item in play.tasks { try visit(item) }
        for (user, group) in requests {
            var cache = ObservationCache()
            try cache.prefetch(group.byTask, via: try transport(group.become))
            setCache(cache, for: user)
        }
    }
}

extension Value {
    /// Whether any string inside holds `{{` or `{%`.
    var containsTemplate: Bool {
        switch self {
        case .string(let s): return s.contains("{{") || s.contains("{%")
        case .list(let items): return items.contains { $0.containsTemplate }
        case .dict(let d): return d.contains { $0.value.containsTemplate }
        default: return false
        }
    }
}
