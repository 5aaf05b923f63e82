import Foundation

/// Runs one play on one host: facts, then every task in order (render, validate,
/// observe, plan, apply unless checking), then the notified handlers.
final class HostRun {
    let host: String
    let play: Play
    let connection: HostConnection
    let engine: EngineContext
    let inventoryVars: ValueDict
    /// Where results go; the fleet runner swaps in its lockstep printer.
    var reporter: RunReporter
    var stats = HostStats()
    /// Registered results and set_fact values: they outlive the play, as in Ansible.
    var hostVars: ValueDict
    var facts = ValueDict()
    var base: ValueDict
    var notified: [String] = []
    /// One transport and one observation cache per user the tasks act as.
    private var transports: [String: Transport] = [:]
    private var caches: [String: ObservationCache] = [:]
    var failed = false
    var unreachable = false

    init(host: String, play: Play, connection: HostConnection, engine: EngineContext, inventoryVars: ValueDict, hostVars: ValueDict) {
        self.host = host
        self.play = play
        self.connection = connection
        self.inventoryVars = inventoryVars
        self.engine = engine
        self.reporter = engine.reporter
        self.hostVars = hostVars
        var magic = ValueDict()
        magic["playbook_dir"] = .string(play.directory)
        magic["ansible_check_mode"] = .bool(engine.options.checkMode)
        magic["ansible_diff_mode"] = .bool(engine.options.diff)
        magic["ansible_play_name"] = .string(play.name)
        base = play.roleDefaults.merging(inventoryVars).merging(magic)
    }

    var stopped: Bool { failed || unreachable }

    var roundTrips: Int { transports.values.reduce(0) { $0 + $1.roundTrips } }

    // MARK: Who tasks run as

    /// The become in force for a task (or the play, when `common` is nil), Ansible's way:
    /// `ansible_become*` variables over the task's or play's keywords over ansible.cfg.
    func become(_ common: TaskCommon?) throws -> Become? {
        let wanted = common?.become ?? play.become
        let keyword = wanted == true ? Become(user: common?.becomeUser ?? play.becomeUser ?? "root") : nil
        if wanted == false && inventoryVars["ansible_become"] == nil { return nil }
        return try Become.resolve(keyword: keyword, variables: inventoryVars, config: engine.config, host: host)
    }

    static func key(_ become: Become?) -> String { become?.user ?? "" }

    func transport(_ become: Become?) throws -> Transport {
        let key = HostRun.key(become)
        if let transport = transports[key] { return transport }
        let transport = try connection.transport(becoming: become)
        transports[key] = transport
        return transport
    }

    /// Observations for a task, through the cache of the user it runs as.
    func observe(_ requests: [Observation], for key: String, as become: Become?) throws -> Observations {
        let transport = try transport(become)
        var cache = caches[HostRun.key(become)] ?? ObservationCache()
        defer { caches[HostRun.key(become)] = cache }
        return try cache.observe(requests, for: key, via: transport)
    }

    func setCache(_ cache: ObservationCache, for user: String) { caches[user] = cache }

    /// After a change every cache is stale: users share the host.
    func invalidateObservations() {
        for key in caches.keys { caches[key]?.invalidate() }
    }

    /// Before `actions` run: every cache makes stale what they can affect.
    func invalidateObservations(after actions: [Action]) {
        for key in caches.keys { caches[key]?.invalidate(after: actions) }
    }

    // MARK: Preparing

    /// Facts (when the play wants them) and vars_files, before any task.
    func prepare() throws {
        if play.gatherFacts {
            let observed = try transport(try become(nil)).observe([Facts.observation])
            guard let output = observed.command(Facts.observation.argv), output.status == 0 else {
                throw TransportError("gathering facts failed on \(host)")
            }
            facts = Facts.parse(output.stdout)
        }
        var scope = base.merging(Facts.variables(facts)).merging(play.vars)
        for file in play.varsFiles {
            let path = try makeTemplar(scope.merging(engine.options.extraVars)).renderString(file)
            let resolved = path.hasPrefix("/") ? path : play.directory + "/" + path
            scope = scope.merging(try engine.loadVarsFile(resolved, at: play.location))
        }
        base = scope.merging(play.roleVars)
    }

    /// The variables a task sees, lowest precedence first.
    func scope(_ common: TaskCommon, extra: ValueDict = ValueDict()) -> ValueDict {
        var vars = base.merging(common.vars).merging(hostVars).merging(extra)
        if let role = common.role {
            vars["role_name"] = .string(role.name)
            vars["role_path"] = .string(role.path)
        }
        return vars.merging(engine.options.extraVars)
    }

    // MARK: Walking tasks

    func run(_ items: [TaskItem]) {
        for item in items {
            if stopped { return }
            switch item {
            case .task(let task):
                if task.module == EngineAction.meta.rawValue, metaAction(task) == "flush_handlers" {
                    runHandlers()
                } else {
                    runTask(task)
                }
            case .block(let block):
                runBlock(block)
            case .include(let include):
                runInclude(include)
            }
        }
    }

    func runBlock(_ block: Block) {
        let templar = makeTemplar(scope(block.common), block.common)
        do {
            if try !conditionsHold(block.common.when, templar) { return }
        } catch {
            fail(name: block.name ?? "block", location: block.common.location, message: "\(error)")
            return
        }
        run(block.tasks)
        if failed && !block.rescue.isEmpty {
            failed = false
            stats.rescued += 1
            stats.failed -= 1
            run(block.rescue)
        }
        let failedBefore = failed
        failed = false
        run(block.always)
        failed = failed || failedBefore
    }

    func runInclude(_ include: Include) {
        let scope = scope(include.common)
        do {
            let templar = makeTemplar(scope, include.common)
            if try !conditionsHold(include.common.when, templar) { return }
            let items = try include.loop.map { try loopItems($0, templar) } ?? [.null]
            for item in items {
                var common = include.common
                if include.loop != nil { common.vars[include.loopControl.loopVar] = item }
                let file = try makeTemplar(scope.merging(common.vars)).renderString(include.file)
                run(try engine.loader.loadTaskFile(file, common: common))
                if stopped { return }
            }
        } catch {
            fail(name: "include_tasks", location: include.common.location, message: "\(error)")
        }
    }

    func runHandlers() {
        guard !stopped, !notified.isEmpty else { return }
        let wanted = Set(notified)
        notified = []
        for handler in play.handlers where wanted.contains(handler.name ?? "") || !wanted.isDisjoint(with: handler.listen) {
            runTask(handler, handler: true)
            if stopped { return }
        }
    }

    func metaAction(_ task: Task) -> String {
        task.arguments.string ?? task.arguments["_raw_params"]?.string ?? ""
    }

    // MARK: One task

    func runTask(_ task: Task, handler: Bool = false) {
        guard engine.tagsSelect(task.common.tags) else { return }
        let title = (task.common.role.map { "\($0.name) : " } ?? "") + task.displayName
        reporter.progress("\(host): \(title)")
        reporter.taskStarted(title, handler: handler, host: host)
        let start = Date()
        let vars = scope(task.common)
        let templar = makeTemplar(vars, task.common)
        var outcomes: [ItemOutcome] = []
        let register: Value
        do {
            if let loop = task.loop {
                // `when` is checked per item, with the item bound.
                for (index, item) in try loopItems(loop, templar).enumerated() {
                    let itemTemplar = makeTemplar(vars.merging(loopVariables(task, item, index)), task.common)
                    let label = try task.loopControl.label.map { try itemTemplar.render($0).pythonText } ?? item.pythonText
                    var outcome = runItem(task, itemTemplar, key: "\(task.common.location)#\(index)")
                    outcome.result[task.loopControl.loopVar] = item
                    outcome.label = label
                    report(task, title: title, outcome, seconds: Date().timeIntervalSince(start))
                    outcomes.append(outcome)
                    if outcome.status == .unreachable { break }
                }
                register = loopRegister(outcomes)
            } else {
                let outcome = runItem(task, templar, key: task.common.location.description)
                report(task, title: title, outcome, seconds: Date().timeIntervalSince(start))
                outcomes.append(outcome)
                register = .dict(outcome.result)
            }
        } catch {
            let outcome = ItemOutcome(status: .failed, message: describe(error, task: task))
            report(task, title: title, outcome, seconds: 0)
            outcomes.append(outcome)
            register = .dict(outcome.result)
        }
        if let name = task.register { hostVars[name] = register }
        count(outcomes, ignoreErrors: ignoresErrors(task, templar))
        if outcomes.contains(where: { $0.status == .changed }) {
            notified += task.notify
        }
    }

    struct ItemOutcome {
        var status: TaskReport.Status
        var message: String?
        var result = ValueDict()
        var changes: [String] = []
        var diffs: [TextDiff] = []
        var commands: [String] = []
        var label: String?
        var hidden = false
        var output: String?
    }

    func runItem(_ task: Task, _ templar: Templar, key: String) -> ItemOutcome {
        do {
            if let condition = try firstFalse(task.common.when, templar) {
                return ItemOutcome(status: .skipped, message: "conditional result was False: \(condition)",
                                   result: ["changed": false, "skipped": true, "false_condition": .string(condition)])
            }
            var outcome: ItemOutcome
            if let action = EngineAction(rawValue: task.module) {
                outcome = try runEngineAction(action, task, templar)
            } else {
                outcome = try runModule(task, templar, key: key)
            }
            try applyOverrides(task, templar, &outcome)
            outcome.hidden = try isTrue(task.common.noLog, templar)
            return outcome
        } catch let error as TransportError where error.unreachable {
            unreachable = true
            return ItemOutcome(status: .unreachable, message: error.message, result: ["unreachable": true, "msg": .string(error.message)])
        } catch {
            let message = describe(error, task: task)
            return ItemOutcome(status: .failed, message: message, result: ["failed": true, "changed": false, "msg": .string(message)])
        }
    }

    func runModule(_ task: Task, _ templar: Templar, key: String) throws -> ItemOutcome {
        guard let type = engine.registry.types[task.module] else {
            throw ModuleError("no module '\(task.moduleAsWritten)'")
        }
        let arguments = try engine.validatedArguments(task, type: type, templar: templar)
        let module = try type.init(arguments)
        let checkMode = try task.common.checkMode.map { try isTrue($0, templar) } ?? engine.options.checkMode
        if checkMode && !type.supportsCheckMode {
            return ItemOutcome(status: .skipped, message: "check mode: '\(type.name)' cannot predict its effect",
                               result: ["changed": false, "skipped": true])
        }
        let context = engine.moduleContext(task: task, templar: templar, facts: facts, checkMode: checkMode, playDirectory: play.directory)
        let runAs = try become(task.common)
        let observed = try observe(module.observations(context), for: key, as: runAs)
        let plan = try module.plan(observed, context)
        var result = plan.result
        if let failure = plan.failure {
            result["failed"] = true
            result["msg"] = .string(failure)
            return ItemOutcome(status: .failed, message: failure, result: result)
        }
        if let reason = plan.skipReason, plan.changes.isEmpty, plan.steps.isEmpty {
            result["changed"] = false
            result["skipped"] = true
            result["msg"] = .string(reason)
            return ItemOutcome(status: .skipped, message: reason, result: result)
        }
        var outcome = ItemOutcome(status: plan.isChanged ? .changed : .ok, result: result)
        outcome.changes = plan.changes.map(\.summary)
        outcome.diffs = plan.changes.compactMap(\.diff)
        outcome.result["changed"] = .bool(plan.isChanged)
        try runSteps(plan.steps, as: runAs, checkMode: checkMode, into: &outcome)
        absorbFacts(outcome.result["ansible_facts"])
        guard plan.isChanged, !checkMode, outcome.status != .failed else { return outcome }
        invalidateObservations(after: plan.changes.flatMap(\.actions))
        let transport = try transport(runAs)
        for action in plan.changes.flatMap(\.actions) {
            outcome.commands.append(action.summary)
            let applied = try transport.perform(action)
            if let output = applied.output {
                outcome.result["rc"] = .int(Int(output.status))
                outcome.result["stdout"] = .string(output.stdout.trimmingTrailingNewline)
                outcome.result["stderr"] = .string(output.stderr.trimmingTrailingNewline)
                outcome.result["stdout_lines"] = .list(output.stdout.lines.map(Value.string))
                outcome.result["stderr_lines"] = .list(output.stderr.lines.map(Value.string))
                if case .run(let command) = action, plan.result["cmd"] == nil {
                    outcome.result["cmd"] = .list(command.argv.map(Value.string))
                }
                if output.status != 0 {
                    let detail = output.stderr.isEmpty ? output.stdout : output.stderr
                    outcome.status = .failed
                    outcome.message = "'\(action.summary)' exited with status \(output.status): \(detail.trimmingTrailingNewline)"
                    outcome.result["failed"] = true
                    outcome.result["msg"] = .string(outcome.message ?? "")
                    return outcome
                }
            }
        }
        return outcome
    }

    /// `changed_when` / `failed_when`, with the task's own result under its `register` name.
    func applyOverrides(_ task: Task, _ templar: Templar, _ outcome: inout ItemOutcome) throws {
        guard task.changedWhen != nil || task.failedWhen != nil, outcome.status != .skipped else { return }
        var extra = ValueDict()
        if let name = task.register { extra[name] = .dict(outcome.result) }
        let bound = makeTemplar(templar.variables.merging(extra), task.common)
        // As Ansible: changed_when is evaluated on failed results too, so a failure that
        // failed_when then forgives ends ok unless changed_when says changed.
        if let conditions = task.changedWhen {
            let changed = try conditionsHold(conditions, bound)
            if outcome.status != .failed { outcome.status = changed ? .changed : .ok }
            outcome.result["changed"] = .bool(changed)
        }
        if let conditions = task.failedWhen {
            let failed = try conditionsHold(conditions, bound)
            if failed {
                outcome.status = .failed
                outcome.message = outcome.message ?? "failed_when condition matched"
            } else if outcome.status == .failed {
                outcome.status = (outcome.result["changed"] == .bool(true)) ? .changed : .ok
                outcome.message = nil
            }
            outcome.result["failed"] = .bool(failed)
        }
    }

    // MARK: Engine actions

    func runEngineAction(_ action: EngineAction, _ task: Task, _ templar: Templar) throws -> ItemOutcome {
        let args = task.arguments.dict ?? ValueDict()
        switch action {
        case .debug:
            let message: String
            if let variable = args["var"]?.string {
                message = "\(variable): \(try templar.evaluate(variable).pythonText)"
            } else {
                message = try templar.render(args["msg"] ?? "Hello world!").pythonText
            }
            var outcome = ItemOutcome(status: .ok, message: message, result: ["msg": .string(message), "changed": false])
            outcome.output = message
            return outcome
        case .setFact:
            var result = ValueDict()
            for (key, value) in try (templar.render(task.arguments).dict ?? ValueDict()) where key != "cacheable" {
                hostVars[key] = value
                result[key] = value
            }
            return ItemOutcome(status: .ok, result: ["ansible_facts": .dict(result), "changed": false])
        case .assert:
            let that = args["that"].map { $0.list ?? [$0] } ?? []
            if let failing = try firstFalse(that, templar) {
                let message = try args["fail_msg"].map { try templar.render($0).pythonText }
                    ?? args["msg"].map { try templar.render($0).pythonText } ?? "Assertion failed: \(failing)"
                return ItemOutcome(status: .failed, message: message, result: ["failed": true, "msg": .string(message), "assertion": .string(failing)])
            }
            let message = try args["success_msg"].map { try templar.render($0).pythonText } ?? "All assertions passed"
            return ItemOutcome(status: .ok, message: message, result: ["msg": .string(message), "changed": false])
        case .fail:
            let message = try args["msg"].map { try templar.render($0).pythonText } ?? "Failed as requested from task"
            return ItemOutcome(status: .failed, message: message, result: ["failed": true, "msg": .string(message)])
        case .meta:
            return ItemOutcome(status: .ok, result: ["changed": false])
        case .includeVars:
            let file = try templar.renderString(task.arguments.string ?? args["file"]?.string ?? "")
            let path = file.hasPrefix("/") ? file : task.common.directory + "/" + file
            var loaded = try engine.loadVarsFile(path, at: task.common.location)
            if let name = args["name"]?.string { loaded = [name: .dict(loaded)] }
            for (key, value) in loaded { hostVars[key] = value }
            return ItemOutcome(status: .ok, result: ["ansible_facts": .dict(loaded), "changed": false])
        }
    }

    // MARK: Helpers

    /// A Templar whose `lookup('file', ...)` searches the role, the task's folder and the play's.
    func makeTemplar(_ variables: ValueDict, _ common: TaskCommon? = nil) -> Templar {
        var paths: [String] = []
        if let role = common?.role { paths.append(role.path) }
        if let directory = common?.directory { paths.append(directory) }
        paths.append(play.directory)
        return Templar(variables: variables, searchPaths: paths)
    }

    /// What one loop item adds to a task's variables (`item` or loop_var, index_var).
    func loopVariables(_ task: Task, _ item: Value, _ index: Int) -> ValueDict {
        var vars = ValueDict()
        vars[task.loopControl.loopVar] = item
        vars["ansible_loop_var"] = .string(task.loopControl.loopVar)
        if let indexVar = task.loopControl.indexVar { vars[indexVar] = .int(index) }
        return vars
    }

    func loopItems(_ loop: Value, _ templar: Templar) throws -> [Value] {
        let rendered = try loop.string.map { try templar.render($0) } ?? templar.render(loop)
        guard let items = rendered.list else {
            throw ModuleError("loop must be a list, but it gives \(rendered.typeName) \(rendered.pythonText)")
        }
        return items
    }

    func loopRegister(_ outcomes: [ItemOutcome]) -> Value {
        var result = ValueDict()
        result["changed"] = .bool(outcomes.contains { $0.status == .changed })
        result["failed"] = .bool(outcomes.contains { $0.status == .failed })
        result["skipped"] = .bool(!outcomes.isEmpty && outcomes.allSatisfy { $0.status == .skipped })
        result["msg"] = "All items completed"
        result["results"] = .list(outcomes.map { .dict($0.result) })
        return .dict(result)
    }

    func conditionsHold(_ conditions: [Value], _ templar: Templar) throws -> Bool {
        try firstFalse(conditions, templar) == nil
    }

    /// The first condition that is false, as written; nil when all hold.
    func firstFalse(_ conditions: [Value], _ templar: Templar) throws -> String? {
        for condition in conditions where try !isTrue(condition, templar) {
            return condition.string ?? condition.pythonText
        }
        return nil
    }

    func isTrue(_ value: Value?, _ templar: Templar) throws -> Bool {
        switch value {
        case nil, .null?: return false
        case .bool(let b)?: return b
        case .string(let s)?: return try templar.isTrue(s)
        case let other?: return other.isTruthy
        }
    }

    func ignoresErrors(_ task: Task, _ templar: Templar) -> Bool {
        (try? isTrue(task.common.ignoreErrors, templar)) ?? false
    }

    func count(_ outcomes: [ItemOutcome], ignoreErrors: Bool) {
        let statuses = outcomes.map(\.status)
        if statuses.contains(.unreachable) {
            stats.unreachable += 1
        } else if statuses.contains(.failed) {
            if ignoreErrors {
                stats.ignored += 1
                stats.ok += 1
            } else {
                stats.failed += 1
                failed = true
            }
        } else if statuses.contains(.changed) {
            stats.changed += 1
            stats.ok += 1
        } else if !statuses.isEmpty && statuses.allSatisfy({ $0 == .skipped }) {
            stats.skipped += 1
        } else {
            stats.ok += 1
        }
    }

    func report(_ task: Task, title: String, _ outcome: ItemOutcome, seconds: Double) {
        var r = TaskReport(host: host, task: title, location: task.common.location, status: outcome.status)
        r.item = outcome.label
        r.message = outcome.message
        r.output = outcome.output
        r.changes = outcome.changes
        r.diffs = outcome.diffs
        r.commands = outcome.commands
        r.hidden = outcome.hidden
        r.seconds = seconds
        r.ignored = outcome.status == .failed && ignoresErrors(task, makeTemplar(scope(task.common), task.common))
        reporter.report(r)
    }

    func fail(name: String, location: SourceLocation, message: String) {
        var r = TaskReport(host: host, task: name, location: location, status: .failed)
        r.message = message
        reporter.report(r)
        stats.failed += 1
        failed = true
    }

    /// An error as the user should read it: where (file:line), then what.
    func describe(_ error: Error, task: Task) -> String {
        switch error {
        case let e as ArgumentError:
            let location = e.argument.flatMap { task.argumentLocations[$0] } ?? task.moduleLocation
            return "\(location): \(e.message)"
        case let e as ModuleError:
            let location = e.argument.flatMap { task.argumentLocations[$0] } ?? task.moduleLocation
            return "\(location): \(e.message)"
        case let e as TemplateError:
            return "\(task.common.location): \(e)"
        case let e as ParseError:
            return e.description
        default:
            return "\(task.common.location): \(error)"
        }
    }
}

extension String {
    var trimmingTrailingNewline: String {
        hasSuffix("\n") ? String(dropLast()) : self
    }

    /// Python's `splitlines()` for `stdout_lines`.
    var lines: [String] {
        split(separator: "\n", omittingEmptySubsequences: false).map(String.init).dropLastIfEmpty()
    }
}

extension Array where Element == String {
    func dropLastIfEmpty() -> [String] { last == "" ? Array(dropLast()) : self }
}
