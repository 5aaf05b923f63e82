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
    /// Variable names set above role defaults (inventory, facts, play vars, ...): a role's own
    /// defaults do not override them.
    var aboveDefaults = Set<String>()
    /// Role runs done on this host in this play (Ansible runs a role once per parameters).
    var completedRoles = Set<String>()
    /// Handlers added by `include_role` while the play runs.
    var includedHandlers: [Task] = []
    var includedHandlerFiles = Set<String>()
    /// Unit reloads and restarts that tasks queued, carried out together (ServiceRestarts).
    var restarts = ServiceRestarts()
    /// One transport and one observation cache per user the tasks act as.
    private var transports: [String: Transport] = [:]
    private var caches: [String: ObservationCache] = [:]
    var failed = false
    var unreachable = false
    /// end_host (or end_play/end_batch): the play is over for this host, which did not fail.
    var ended = false
    /// The hosts of this batch, for run_once, play-wide meta actions and any_errors_fatal.
    var coordinator: BatchCoordinator
    /// Every task is a meeting of the batch's hosts (any_errors_fatal, max_fail_percentage).
    var lockstep = false
    /// How often each task was reached, so that hosts meet at the same occurrence of it.
    var arrivals: [SourceLocation: Int] = [:]
    /// The inventory version `groups`/`group_names` were taken from.
    var inventoryVersion = 0
    /// The async job of the task running now (`async:`), finished into its result.
    var pendingJob: AsyncJob?
    /// `meta: end_role`: the rest of this role's tasks are skipped.
    var endedRole: RoleContext?
    /// Blocks with a rescue around the running task: only there does a failure set `ansible_failed_*`.
    var rescueDepth = 0

    init(host: String, play: Play, connection: HostConnection, engine: EngineContext, inventoryVars: ValueDict, hostVars: ValueDict,
         coordinator: BatchCoordinator? = nil) {
        self.host = host
        self.play = play
        self.connection = connection
        self.inventoryVars = inventoryVars
        self.engine = engine
        self.reporter = engine.reporter
        self.hostVars = hostVars
        self.coordinator = coordinator ?? BatchCoordinator(hosts: [host])
        var magic = ValueDict()
        magic["playbook_dir"] = .string(play.directory)
        magic["ansible_check_mode"] = .bool(engine.options.checkMode)
        magic["ansible_diff_mode"] = .bool(engine.options.diff)
        magic["ansible_play_name"] = .string(play.name)
        magic["ansible_play_batch"] = .list(self.coordinator.hosts.map(Value.string))
        base = play.roleDefaults.merging(inventoryVars).merging(magic)
        aboveDefaults = Set(inventoryVars.keys).union(magic.keys)
    }

    var stopped: Bool { failed || unreachable || ended || failedByOthers || coordinator.batchEnded }

    /// Another host's failure stopped this one (any_errors_fatal, a failed run_once): failed, but uncounted.
    var failedByOthers: Bool { coordinator.isFailedByOthers(host) }

    var roundTrips: Int { transports.values.reduce(0) { $0 + $1.roundTrips } }

    // MARK: Who tasks run as

    /// The become in force for a task (or the play, when `common` is nil), Ansible's way:
    /// `ansible_become*` variables over the task's or play's keywords over ansible.cfg.
    func become(_ common: TaskCommon?, variables: ValueDict? = nil) throws -> Become? {
        let wanted = common?.become ?? play.become
        let method = (common ?? play.common).becomeMethod.map { $0.replacingOccurrences(of: "ansible.builtin.", with: "") } ?? "sudo"
        let keyword = wanted == true ? Become(user: common?.becomeUser ?? play.becomeUser ?? "root", method: method) : nil
        let variables = variables ?? inventoryVars
        if wanted == false && variables["ansible_become"] == nil { return nil }
        return try Become.resolve(keyword: keyword, variables: variables, config: engine.config, host: host)
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
        // In place: a copy taken out of the dictionary would make every mutation copy the whole cache (O(N²) loops).
        return try caches[HostRun.key(become), default: newCache(become, transport)].observe(requests, for: key, via: transport)
    }

    func newCache(_ become: Become?, _ transport: Transport) -> ObservationCache {
        ObservationCache(memory: ObservationMemory(host: transport.name, user: HostRun.key(become)))
    }

    func setCache(_ cache: ObservationCache, for user: String) { caches[user] = cache }

    /// Forgets every observation (they were read for tasks rendered with other facts).
    func discardObservations() { caches = [:] }

    /// After a reboot the sessions are gone: the next use opens new ones.
    func reconnect() {
        connection.close()
        transports = [:]
        caches = [:]
    }

    /// After a change every cache is stale: users share the host.
    func invalidateObservations() {
        for key in caches.keys { caches[key]?.invalidate() }
    }

    /// Before `actions` run: every cache makes stale what they can affect.
    func invalidateObservations(after actions: [Action]) {
        for key in caches.keys { caches[key]?.invalidate(after: actions) }
    }

    /// `meta: reset_connection`: the next task opens new sessions (and observes afresh).
    func resetConnection() {
        connection.reset()
        transports = [:]
        caches = [:]
    }

    // MARK: Preparing

    /// Facts (when the play wants them) and vars_files, before any task.
    func prepare() throws {
        if play.gatherFacts {
            let factsTransport = try transport(try become(nil))
            facts = try Facts.gather(host, via: factsTransport, memory: FactsMemory(host: factsTransport.name))
        }
        try prepareVariables()
    }

    /// The play's variables over the facts: fact variables, play vars, vars_files, role vars.
    func prepareVariables() throws {
        let factVariables = Facts.variables(facts)
        aboveDefaults.formUnion(factVariables.keys)
        aboveDefaults.formUnion(play.vars.keys)
        aboveDefaults.formUnion(play.roleVars.keys)
        let scope = try readVarsFiles(base.merging(factVariables).merging(play.vars))
        base = scope.merging(play.roleVars)
    }

    /// Ansible's "Gathering Facts" task: reported and counted once the host's run starts.
    func reportFacts() {
        guard play.gatherFacts else { return }
        reporter.taskStarted("Gathering Facts", handler: false, host: host)
        reporter.report(TaskReport(host: host, task: "Gathering Facts", location: play.location, status: .ok))
        stats.ok += 1
    }

    /// The variables a task sees, lowest precedence first.
    func scope(_ common: TaskCommon, extra: ValueDict = ValueDict()) -> ValueDict {
        refreshInventoryVariables()
        var vars = layered(base, for: common.role).merging(common.vars).merging(hostVars).merging(extra)
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
                if let role = endedRole, task.common.role == role { continue }
                endedRole = nil
                if lockstep && !task.implicit {
                    _ = meet(at: task)
                    if stopped { return }
                }
                if task.module == EngineAction.meta.rawValue {
                    runMeta(task)
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

    /// A block's `when` is not a gate: its tasks inherit it and each is skipped (and counted) by it, as in Ansible.
    func runBlock(_ block: Block) {
        if let key = block.role?.key, !completedRoles.insert(key).inserted { return }
        if !block.rescue.isEmpty { rescueDepth += 1 }
        run(block.tasks)
        if !block.rescue.isEmpty { rescueDepth -= 1 }
        if failed && !unreachable && !block.rescue.isEmpty {
            failed = false
            stats.rescued += 1
            stats.failed -= 1
            run(block.rescue)
        }
        let failedBefore = failed
        failed = false
        if !unreachable { run(block.always) }
        failed = failed || failedBefore
    }

    /// Runs the notified handlers; `force` (force_handlers) runs them on a failed host too.
    func runHandlers(force: Bool = false) {
        if force && failed && !unreachable && !failedByOthers {
            // A forced flush runs as if the host had not failed; it stays failed.
            failed = false
            defer { failed = true }
            return runHandlers()
        }
        settleUnits()
        guard !stopped, !notified.isEmpty else { return }
        let wanted = Set(notified)
        notified = []
        let handlers = play.handlers + includedHandlers
        // As Ansible: of handlers sharing a name, the last one loaded shadows the others.
        var lastNamed: [String: Int] = [:]
        for (index, handler) in handlers.enumerated() { if let name = handler.name { lastNamed[name] = index } }
        for (index, handler) in handlers.enumerated()
        where (wanted.contains(handler.name ?? "") && lastNamed[handler.name ?? ""] == index) || !wanted.isDisjoint(with: handler.listen) {
            runTask(handler, handler: true)
            if stopped { return }
        }
    }

    // MARK: One task

    func runTask(_ task: Task, handler: Bool = false) {
        guard engine.tagsSelect(task.common.tags) else { return }
        if EngineAction(rawValue: task.module)?.runsOncePerBatch == true { return runOncePerBatch(task, handler: handler) }
        // Engine actions (debug, assert, ...) never touch the host; other modules may need running services.
        if let type = engine.registry.types[task.module], !type.defersUnitRestarts {
            settleUnits()
            if stopped { return }
        }
        let templar = makeTemplar(scope(task.common), task.common)
        do {
            if try runsOnce(task, templar) {
                return runOnce(task, handler: handler)
            }
            if let limit = try throttle(task, templar) {
                return coordinator.throttled(task.common.location.description, limit: limit) { execute(task, handler: handler) }
            }
        } catch {
            return fail(name: task.displayName, location: task.common.location, message: describe(error, task: task),
                        hidden: hides(task.common, templar))
        }
        execute(task, handler: handler)
    }

    /// What a task left behind: its register value, whether it failed unforgiven, the facts it set.
    struct TaskResult {
        var register: Value
        var failed: Bool
        var facts: ValueDict
    }

    /// Runs a task on this host (every loop item), reports and counts it, and records its result.
    @discardableResult
    func execute(_ task: Task, handler: Bool = false) -> TaskResult {
        let title = (task.common.role.map { "\($0.name) : " } ?? "") + task.displayName
        reporter.progress("\(host): \(title)")
        reporter.taskStarted(title, handler: handler, host: host)
        let start = Date()
        let vars = scope(task.common)
        let templar = makeTemplar(vars, task.common)
        var outcomes: [ItemOutcome] = []
        var register: Value
        do {
            if task.loop != nil {
                // `when` is checked per item, with the item bound.
                let items = try loopItems(of: task, templar)
                for (index, item) in items.enumerated() {
                    if index > 0 { try pauseBetweenItems(task.loopControl, templar) }
                    let itemTemplar = makeTemplar(vars.merging(try loopVariables(task.loopControl, item, index, of: items, templar)), task.common)
                    let label = try task.loopControl.label.map { try itemTemplar.render($0).pythonText } ?? item.pythonText
                    var outcome = runItem(task, itemTemplar, key: "\(task.common.location)#\(index)")
                    outcome.result[task.loopControl.loopVar] = item
                    outcome.label = label
                    report(task, title: title, outcome, seconds: Date().timeIntervalSince(start))
                    outcomes.append(outcome)
                    if outcome.status == .unreachable { break }
                }
                register = loopRegister(outcomes)
                if items.isEmpty {
                    let outcome = ItemOutcome(status: .skipped, message: "No items in the list",
                                              result: ["changed": false, "skipped": true, "skipped_reason": "No items in the list", "results": .list([])])
                    report(task, title: title, outcome, seconds: 0)
                    outcomes.append(outcome)
                    register = .dict(outcome.result)
                }
            } else {
                let outcome = runItem(task, templar, key: task.common.location.description)
                report(task, title: title, outcome, seconds: Date().timeIntervalSince(start))
                outcomes.append(outcome)
                register = .dict(outcome.result)
            }
        } catch {
            let message = describe(error, task: task)
            let outcome = ItemOutcome(status: .failed, message: message, result: ["failed": true, "changed": false, "msg": .string(message)])
            report(task, title: title, outcome, seconds: 0)
            outcomes.append(outcome)
            register = .dict(outcome.result)
        }
        // A result is the host's data: marked, it is never rendered as a template again.
        if let name = task.register { hostVars[name] = .untrusted(register) }
        let ignoreErrors = ignoresErrors(task, templar)
        count(outcomes, ignoreErrors: ignoreErrors, ignoreUnreachable: (try? isTrue(task.common.ignoreUnreachable, templar)) ?? false)
        if outcomes.contains(where: { $0.status == .changed }) {
            notified += task.notify
        }
        let failedHere = !ignoreErrors && outcomes.contains { $0.status == .failed }
        if failedHere {
            if rescueDepth > 0 {
                hostVars["ansible_failed_task"] = failedTaskValue(task)
                hostVars["ansible_failed_result"] = .untrusted(register)
            }
            coordinator.noteFailure(host, fatal: task.common.anyErrorsFatal ?? false)
        }
        var facts = ValueDict()
        for outcome in outcomes { facts = facts.merging(outcome.result["ansible_facts"]?.dict ?? ValueDict()) }
        return TaskResult(register: register, failed: failedHere, facts: facts)
    }

    /// `ansible_failed_task` in a rescue: the failed task as Ansible describes it.
    func failedTaskValue(_ task: Task) -> Value {
        var value = ValueDict()
        value["name"] = .string(task.name ?? "")
        value["action"] = .string(task.moduleAsWritten)
        value["args"] = task.arguments.dict.map(Value.dict) ?? (task.arguments == .null ? .dict(ValueDict()) : ["_raw_params": task.arguments])
        value["register"] = task.register.map(Value.string) ?? .null
        value["when"] = .list(task.common.when)
        value["tags"] = .list(task.common.tags.map(Value.string))
        value["delegate_to"] = task.common.delegateTo ?? .null
        return .dict(value)
    }

    struct ItemOutcome {
        var status: TaskReport.Status
        var message: String?
        var result = ValueDict()
        var changes: [String] = []
        var diffs: [TextDiff] = []
        var commands: [String] = []
        var planned: [String] = []
        var label: String?
        var hidden = false
        var output: String?
        /// The host the module ran on instead (delegate_to).
        var delegatedTo: String?
        /// The task's own `diff:` keyword, over --diff.
        var showDiff: Bool?
    }

    func runItem(_ task: Task, _ templar: Templar, key: String) -> ItemOutcome {
        do {
            if let condition = try firstFalse(task.common.when, templar) {
                return ItemOutcome(status: .skipped, message: "conditional result was False: \(condition)",
                                   result: ["changed": false, "skipped": true, "false_condition": .string(condition)])
            }
            let hidden = hides(task.common, templar)
            var outcome = try retrying(task, templar) { attempt in
                do {
                    var outcome: ItemOutcome
                    if let action = EngineAction(rawValue: task.module) {
                        outcome = try runEngineAction(action, task, templar)
                    } else {
                        outcome = try runModule(task, templar, key: attempt == 1 ? key : "\(key)@\(attempt)")
                        if let job = pendingJob {
                            job.finish(&outcome)
                            pendingJob = nil
                        }
                    }
                    try applyOverrides(task, templar, &outcome)
                    return outcome
                } catch let error as TransportError where error.unreachable {
                    throw error
                } catch {
                    let message = describe(error, task: task)
                    return ItemOutcome(status: .failed, message: message, result: ["failed": true, "changed": false, "msg": .string(message)])
                }
            }
            outcome.hidden = hidden
            outcome.delegatedTo = try delegate(of: task, templar)
            outcome.showDiff = try task.common.diff.map { try isTrue($0, templar) }
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
        var arguments = try engine.validatedArguments(task, type: type, templar: templar)
        if engine.options.offline, let bundle = engine.options.bundle { arguments = bundle.substituted(module: task.module, arguments) }
        let module = try type.init(arguments)
        let checkMode = try task.common.checkMode.map { try isTrue($0, templar) } ?? engine.options.checkMode
        if checkMode && !type.supportsCheckMode {
            return ItemOutcome(status: .skipped, message: "check mode: '\(type.name)' cannot predict its effect",
                               result: ["changed": false, "skipped": true])
        }
        let runAs = try become(task.common)
        let target = try self.target(of: task, templar)
        let onController = try (target?.transport ?? transport(runAs)) is LocalTransport
        let context = engine.moduleContext(task: task, templar: templar, facts: facts, checkMode: checkMode,
                                           playDirectory: play.directory, onController: onController)
        let observed = try target.map { try $0.transport.observe(module.observations(context)) }
            ?? observe(module.observations(context), for: key, as: runAs)
        var plan = try module.plan(observed, context)
        if engine.options.offline, plan.failure == nil {
            plan.failure = OfflineBundle.refusal(module: task.module, arguments: arguments, plan: plan,
                                                 packagesBundled: engine.options.offlinePackages != nil)
        }
        if !checkMode, plan.failure == nil, let job = try asyncJob(task, templar) {
            plan = try job.wrapping(plan, module: task.moduleAsWritten)
            if plan.isChanged { pendingJob = job }
        }
        if target != nil, !plan.units.isEmpty {
            throw ModuleError("delegate_to a module that restarts services ('\(task.moduleAsWritten)') is not implemented yet")
        }
        let environment = try TaskEnvironment.resolve(task.common.environment, templar)
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
        if checkMode, let judge = engine.options.rootNeeds {
            // Judged from this machine's files: only for the local connection.
            outcome.planned = plan.changes.flatMap(\.actions).map { action in
                action.summary + ((onController ? judge.reason(action, become: runAs?.user) : nil).map { "  [needs root: \($0)]" } ?? "")
            }
        }
        try runSteps(plan.steps, as: runAs, checkMode: checkMode, into: &outcome, via: target?.transport, environment: environment)
        absorbFacts(outcome.result["ansible_facts"])
        guard plan.isChanged, !checkMode, outcome.status != .failed else { return outcome }
        let actions = plan.adding(environment: environment).changes.flatMap(\.actions)
        invalidateObservations(after: actions)
        let transport = try target?.transport ?? transport(runAs)
        for action in actions {
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
        restarts.queue(plan.units, runAs: runAs, origin: task.common.location.description)
        return outcome
    }

    /// `changed_when` / `failed_when`, with the task's own result under its `register` name.
    func applyOverrides(_ task: Task, _ templar: Templar, _ outcome: inout ItemOutcome) throws {
        guard task.changedWhen != nil || task.failedWhen != nil, outcome.status != .skipped else { return }
        var extra = ValueDict()
        if let name = task.register { extra[name] = .untrusted(.dict(outcome.result)) }
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
        let args = try EngineActionArguments.parse(task.arguments, action)
        switch action {
        case .debug:
            if let verbosity = args["verbosity"], let level = Int(try templar.render(verbosity).pythonText), level > engine.options.verbosity {
                return ItemOutcome(status: .skipped, message: "verbosity threshold not met",
                                   result: ["changed": false, "skipped": true, "skipped_reason": "Verbosity threshold not met."])
            }
            // As Ansible: the result holds the value itself (`msg`, or the variable's name), and the
            // line shows it as JSON (indent 4, keys sorted).
            let key: String, value: Value
            if let variable = args["var"]?.string {
                key = variable
                do {
                    value = try templar.evaluate(variable)
                } catch let error as TemplateError where error.undefinedVariable != nil || error.message.contains("has no attribute") {
                    // As Ansible 2.19: an undefined `var` prints a marker, the task does not fail.
                    value = .string("<< error 1 - \(error.message) >>")
                }
            } else {
                key = "msg"
                value = try templar.render(args["msg"] ?? "Hello world!")
            }
            let shown = ValueDict([(key, value.plain)])
            var outcome = ItemOutcome(status: .ok, message: value.pythonText, result: shown.merging(ValueDict([("changed", false)])))
            outcome.output = PythonJSON.dumps(.dict(shown), PythonJSON.Options(indent: 4, sortKeys: true, ensureASCII: false))
            return outcome
        case .setFact:
            var result = ValueDict()
            for (key, raw) in args where key != "cacheable" {
                // What a template produced is data from then on (Ansible 2.19): stored marked.
                let value = raw.needsRendering ? Value.untrusted(try templar.render(raw)) : raw
                let name = try templar.renderString(key)
                hostVars[name] = value
                result[name] = value
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
        case .addHost: return try addHost(task, templar)
        case .groupBy: return try groupBy(task, templar)
        case .setup: return try setup(task, templar)
        case .pause: return try pause(task, templar)
        case .asyncStatus: return try asyncStatus(task, templar)
        case .reboot: return try reboot(task, templar)
        case .includeVars:
            let file = try templar.renderString(args["file"]?.string ?? "")
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

    /// Whether `no_log` hides what the task says (see `NoLog`).
    func hides(_ common: TaskCommon, _ templar: @autoclosure () -> Templar) -> Bool {
        NoLog.hides(common.noLog) { try isTrue($0, templar()) }
    }

    func ignoresErrors(_ task: Task, _ templar: Templar) -> Bool {
        (try? isTrue(task.common.ignoreErrors, templar)) ?? false
    }

    func count(_ outcomes: [ItemOutcome], ignoreErrors: Bool, ignoreUnreachable: Bool = false) {
        let statuses = outcomes.map(\.status)
        if statuses.contains(.unreachable) && ignoreUnreachable {
            unreachable = false
            stats.ignored += 1
            stats.ok += 1
        } else if statuses.contains(.unreachable) {
            stats.unreachable += 1
        } else if statuses.contains(.failed) {
            if ignoreErrors {
                // As Ansible: a forgiven failure that changed something counts as changed.
                stats.ignored += 1
                stats.ok += 1
                if outcomes.contains(where: { $0.status == .changed || $0.result["changed"] == .bool(true) }) { stats.changed += 1 }
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
        r.planned = outcome.planned
        // Also for outcomes that failed before the item's no_log was known.
        r.hidden = outcome.hidden || hides(task.common, makeTemplar(scope(task.common), task.common))
        r.delegatedTo = outcome.delegatedTo
        r.showDiff = outcome.showDiff
        r.seconds = seconds
        r.ignored = outcome.status == .failed && ignoresErrors(task, makeTemplar(scope(task.common), task.common))
        reporter.report(r)
    }

    func fail(name: String, location: SourceLocation, message: String, hidden: Bool = false) {
        var r = TaskReport(host: host, task: name, location: location, status: .failed)
        r.message = message
        r.hidden = hidden
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
