import Foundation

/// Checks done before anything changes, every problem collected (each with file:line:col):
/// task arguments against their module's declaration (names always, values when they hold no
/// template, `k=v` strings included), engine actions' arguments, handler names, the filter, test
/// and lookup names of every template, and the task files `include_tasks` names statically.
/// Then, per host, everything that renders without run-time results (`prefetch`).
extension EngineContext {
    func validate(_ playbook: Playbook) -> [Error] {
        var check = PlaybookCheck(engine: self)
        for play in playbook.plays { check.check(play) }
        return check.problems
    }

    /// Names that tasks define while running (register, set_fact, include_vars, a facts module's
    /// facts, a rescue's ansible_failed_*): an undefined variable among them is not an error before the run.
    static func runtimeNames(_ items: [TaskItem], registry: ModuleRegistry? = nil) -> (names: Set<String>, open: Bool) {
        var names: Set<String> = ["ansible_failed_task", "ansible_failed_result"]
        var open = false
        func visit(_ item: TaskItem) {
            switch item {
            case .task(let task):
                if let r = task.register { names.insert(r) }
                if task.module == EngineAction.setFact.rawValue {
                    names.formUnion((try? EngineActionArguments.parse(task.arguments, .setFact))?.keys ?? [])
                }
                if task.module == EngineAction.includeVars.rawValue || task.module == EngineAction.setup.rawValue
                    || registry?.types[task.module]?.returnsFacts == true { open = true }
            case .block(let b): (b.tasks + b.rescue + b.always).forEach(visit)
            case .include: open = true
            }
        }
        items.forEach(visit)
        return (names, open)
    }
}

/// One pass over a playbook that notes every problem and goes on.
struct PlaybookCheck {
    let engine: EngineContext
    var problems: [Error] = []
    var handlers: [String] = []
    /// Checking a `no_log` task: its problems say where, never what (they may quote its values).
    var censoring = false

    init(engine: EngineContext) { self.engine = engine }

    mutating func note(_ location: SourceLocation, _ message: String) {
        problems.append(PreflightError(censoring ? NoLog.error(at: location) : "\(location): \(message)"))
    }

    mutating func check(_ play: Play) {
        let roleHandlers = (play.tasks + play.handlers.map(TaskItem.task)).flatMap(\.staticRoleHandlers)
        handlers = (play.handlers + roleHandlers).flatMap { [$0.name].compactMap { $0 } + $0.listen }
        templates(in: .dict(play.vars), expression: false, at: play.location)
        for item in play.tasks { check(item) }
        for handler in play.handlers { check(.task(handler)) }
    }

    mutating func check(_ item: TaskItem) {
        switch item {
        case .block(let block):
            common(block.common)
            for inner in block.tasks + block.rescue + block.always { check(inner) }
        case .include(let include):
            common(include.common)
            if let loop = include.loop { templates(in: loop, expression: false, at: include.common.location) }
            // What a static name holds was loaded with the playbook: walked here as if it ran.
            switch include.preloaded {
            case .loaded(let items)?: for inner in items { check(inner) }
            case .failed(let error)?: problems.append(error)
            case .recursive?, nil: break
            }
        case .task(let task):
            check(task)
        }
    }

    /// Templates in the keywords every item has.
    mutating func common(_ common: TaskCommon) {
        let location = common.location
        for condition in common.when { templates(in: condition, expression: true, at: location) }
        templates(in: .dict(common.vars), expression: false, at: location)
        for layer in common.environment + common.moduleDefaults { templates(in: layer, expression: false, at: location) }
        for value in [common.delegateTo, common.runOnce, common.ignoreErrors, common.checkMode, common.noLog, common.throttle].compactMap({ $0 }) {
            templates(in: value, expression: false, at: location)
        }
    }

    mutating func check(_ task: Task) {
        if task.implicit { return }
        censoring = NoLog.hides(task.common.noLog)
        defer { censoring = false }
        common(task.common)
        for name in task.notify where !handlers.contains(name) && !name.contains("{{") {
            note(task.notifyLocation ?? task.common.location, "no handler '\(name)' in this play" + Suggestion.hint(for: name, in: handlers))
        }
        for conditions in [task.changedWhen, task.failedWhen, task.until].compactMap({ $0 }) {
            for condition in conditions { templates(in: condition, expression: true, at: task.common.location) }
        }
        if let loop = task.loop { templates(in: loop, expression: false, at: task.common.location) }
        if let label = task.loopControl.label { templates(in: label, expression: false, at: task.common.location) }
        arguments(task)
    }

    /// Every template inside `value` parses and names only filters, tests and lookups provision has.
    mutating func templates(in value: Value, expression: Bool, at location: SourceLocation) {
        switch value {
        case .string(let text):
            for problem in TemplateNameCheck.problems(in: text, expression: expression) { note(location, problem) }
        case .list(let items):
            for item in items { templates(in: item, expression: false, at: location) }
        case .dict(let d):
            for (key, item) in d {
                templates(in: .string(key), expression: false, at: location)
                templates(in: item, expression: false, at: location)
            }
        default: break
        }
    }

    mutating func arguments(_ task: Task) {
        func location(_ argument: String?) -> SourceLocation {
            argument.flatMap { task.argumentLocations[$0] } ?? task.moduleLocation
        }
        if let action = EngineAction(rawValue: task.module) {
            do {
                let args = try EngineActionArguments.parse(task.arguments, action)
                for (key, value) in args {
                    let isCondition = action == .assert && key == "that" || action == .debug && key == "var"
                    templates(in: value, expression: isCondition, at: location(key))
                }
            } catch let e as ArgumentError {
                note(location(e.argument), e.message)
            } catch {
                note(task.moduleLocation, "\(error)")
            }
            return
        }
        guard let type = engine.registry.types[task.module] else { return }
        switch task.arguments {
        case .dict(let d):
            for (key, value) in d { templates(in: value, expression: false, at: location(key)) }
        default:
            templates(in: task.arguments, expression: false, at: task.moduleLocation)
        }
        let names = type.arguments.map(\.name)
        var arguments = task.arguments
        do {
            if case .string(let text) = arguments {
                // `k=v` text: each word's name is checked even when its value is a template.
                guard KeyValueArguments.isStatic(text, freeForm: type.freeFormArgument) else { return }
                arguments = .dict(try KeyValueArguments.parse(text, freeForm: type.freeFormArgument, names: names))
            }
            if case .dict(let args) = arguments, let raw = args["_raw_params"]?.string, KeyValueArguments.isStatic(raw, freeForm: type.freeFormArgument) {
                arguments = .dict(try KeyValueArguments.expand(args, freeForm: type.freeFormArgument, names: names))
            }
            guard case .dict(var args) = arguments, args["_raw_params"] == nil else { return }
            for (key, value) in try ModuleDefaults.defaults(for: task, resolve: engine.registry.resolve) where args[key] == nil {
                args[key] = value
            }
            let templated = Set(args.filter { $0.value.containsTemplate }.map(\.key))
            let validated = try ModuleArguments.validate(args, against: type.arguments, module: task.moduleAsWritten, templated: templated)
            // Literal arguments are checked whole here (a port out of range inside `sections`), before any host.
            if templated.isEmpty && task.loop == nil { _ = try type.init(validated) }
        } catch let e as ArgumentError {
            note(location(e.argument), e.message)
        } catch let e as ModuleError {
            note(location(e.argument), e.message)
        } catch {
            note(task.moduleLocation, "\(error)")
        }
    }
}

extension HostRun {
    /// Renders every task that can be rendered now, validates its arguments, and
    /// reads all their observations in one round trip. Errors here stop the run
    /// before anything changed, unless they involve names defined at run time.
    /// `extra` rides along as the play's user, its answer returned.
    @discardableResult
    func prefetch(runtimeNames: (names: Set<String>, open: Bool), alongWith extra: Observation? = nil) throws -> Observations {
        var problems: [Error] = []
        // Per user the tasks run as, then per task.
        var requests: [String: (become: Become?, byTask: [(task: String, observations: [Observation])])] = [:]
        func collect(_ task: Task, _ type: any Module.Type, _ templar: Templar, key: String) throws {
            if try firstFalse(task.common.when, templar) != nil { return }
            var arguments = try engine.validatedArguments(task, type: type, templar: templar)
            if engine.options.offline, let bundle = engine.options.bundle { arguments = bundle.substituted(module: task.module, arguments) }
            let module = try type.init(arguments)
            let checkMode = try task.common.checkMode.map { try isTrue($0, templar) } ?? engine.options.checkMode
            if checkMode && !type.supportsCheckMode { return }
            let context = engine.moduleContext(task: task, templar: templar, facts: facts, checkMode: checkMode,
                                               playDirectory: play.directory, onController: connection is LocalConnection)
            // Templates are read (they must be UTF-8); other files only found: an image archive is GBs.
            for file in module.controllerFiles {
                if file.kind == .template {
                    _ = try context.readControllerFile(file.path, file.kind)
                } else {
                    _ = try EngineContext.locateControllerFile(file.path, kind: file.kind, common: task.common, playDirectory: play.directory)
                }
            }
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
                    // A task that runs elsewhere (delegate_to) observes that host when it runs.
                    if try runsElsewhere(task, templar) { return }
                    if task.loop != nil {
                        // A loop that fails on a task that ignores errors fails (ignored) when it runs.
                        guard let items = ignoresErrors(task, templar) ? try? loopItems(of: task, templar) : try loopItems(of: task, templar) else { return }
                        for (index, item) in items.enumerated() {
                            try collect(task, type, makeTemplar(vars.merging(try loopVariables(task.loopControl, item, index, of: items, templar)), task.common),
                                        key: "\(task.common.location)#\(index)")
                        }
                    } else {
                        try collect(task, type, templar, key: task.common.location.description)
                    }
                } catch let e as TemplateError {
                    if let name = e.undefinedVariable, runtimeNames.open || runtimeNames.names.contains(name) { return }
                    problems.append(PreflightError(hides(task.common, templar) ? NoLog.error(at: task.common.location) : describe(e, task: task)))
                } catch {
                    // Nothing here depends on the host yet: a bad argument or loop is a bad playbook.
                    problems.append(PreflightError(hides(task.common, templar) ? NoLog.error(at: task.common.location) : describe(error, task: task)))
                }
            }
        }
        for item in play.tasks { try visit(item) }
        try Diagnostics.throwIfAny(problems)
        let playUser = try become(nil)
        if let extra { requests[HostRun.key(playUser), default: (playUser, [])].byTask.insert(("", [extra]), at: 0) }
        var answer = Observations()
        for (user, group) in requests {
            let transport = try transport(group.become)
            var cache = newCache(group.become, transport)
            try cache.prefetch(group.byTask, via: transport)
            if let extra, user == HostRun.key(playUser) { answer = try cache.observe([extra], for: "", via: transport) }
            setCache(cache, for: user)
        }
        return answer
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

extension TaskItem {
    /// Handlers of the roles this item loads statically (include_role with a static name included).
    var staticRoleHandlers: [Task] {
        switch self {
        case .task: return []
        case .block(let block): return (block.role?.handlers ?? []) + (block.tasks + block.rescue + block.always).flatMap(\.staticRoleHandlers)
        case .include(let include):
            if case .loaded(let items)? = include.preloaded { return items.flatMap(\.staticRoleHandlers) }
            return []
        }
    }
}
