import Foundation

/// `include_tasks` and `include_role` when a host reaches them, as Ansible runs them: the include's
/// own `when`, tags and loop decide whether and how often it happens; each item is announced
/// ("included", counted ok) and then its tasks run. Includes nest at most
/// `PlaybookLoader.maxIncludeDepth` deep, so a file that includes itself without end stops with the chain.
extension HostRun {
    func runInclude(_ include: Include) {
        guard engine.tagsSelect(include.common.tags) else { return }
        let title = include.role.map { "include_role : \($0.name)" } ?? "include_tasks"
        reporter.taskStarted(title, handler: false, host: host)
        let scope = scope(include.common)
        let templar = makeTemplar(scope, include.common)
        let hidden = hides(include.common, templar)
        do {
            if let condition = try firstFalse(include.common.when, templar) {
                return skipInclude(title, include, "conditional result was False: \(condition)", hidden: hidden)
            }
            let items = include.loop == nil ? [Value.null] : try loopItems(of: include, templar)
            if items.isEmpty { return skipInclude(title, include, "No items in the list", hidden: hidden) }
            var loaded: [[TaskItem]] = []
            for (index, item) in items.enumerated() {
                var vars = include.common.vars
                if include.loop != nil {
                    vars = vars.merging(try loopVariables(include.loopControl, item, index, of: items, templar))
                }
                let itemTemplar = makeTemplar(scope.merging(vars), include.common)
                let (name, tasks) = try load(include, itemTemplar, vars: vars)
                loaded.append(tasks)
                var report = TaskReport(host: host, task: title, location: include.common.location, status: .ok)
                report.output = "included: \(name) for \(host)"
                report.hidden = hidden
                if include.loop != nil {
                    report.item = try include.loopControl.label.map { try itemTemplar.render($0).pythonText } ?? item.pythonText
                }
                reporter.report(report)
                stats.ok += 1
            }
            for tasks in loaded {
                run(tasks)
                if stopped { return }
            }
        } catch {
            let message = (error as? RecursionError)?.description ?? describe(error, at: include.common.location)
            guard (try? isTrue(include.common.ignoreErrors, templar)) == true else {
                return fail(name: title, location: include.common.location, message: message, hidden: hidden)
            }
            var report = TaskReport(host: host, task: title, location: include.common.location, status: .failed)
            report.message = message
            report.hidden = hidden
            report.ignored = true
            reporter.report(report)
            stats.ignored += 1
            stats.ok += 1
        }
    }

    func skipInclude(_ title: String, _ include: Include, _ reason: String, hidden: Bool) {
        var report = TaskReport(host: host, task: title, location: include.common.location, status: .skipped)
        report.message = reason
        report.hidden = hidden
        reporter.report(report)
        stats.skipped += 1
    }

    /// The include's tasks for one item, and the name "included:" shows.
    func load(_ include: Include, _ templar: Templar, vars: ValueDict) throws -> (String, [TaskItem]) {
        guard var role = include.role else {
            let written = try templar.renderString(include.file)
            let path = (engine.loader.resolve(written, against: include.common.directory, role: include.common.role, folder: "tasks") as NSString)
                .standardizingPath
            var common = include.tasksCommon
            common.vars = vars
            let step = IncludeStep(location: include.common.location, file: path, kind: .include(conditional: include.isConditional))
            return (path, try engine.loader.loadTaskFile(path, common: common, step: step))
        }
        role.name = try templar.renderString(role.name)
        role.files = RoleFiles(tasks: try templar.renderString(role.files.tasks), vars: try templar.renderString(role.files.vars),
                               defaults: try templar.renderString(role.files.defaults), handlers: try templar.renderString(role.files.handlers))
        var common = include.tasksCommon
        common.vars = vars
        let items = try engine.loader.loadIncludedRole(role, common: common, conditional: include.isConditional)
        adoptRoles(items, isPublic: role.isPublic)
        return (role.name, items)
    }

    /// An included role's handlers join the play's (once per handlers file); a public role's
    /// defaults and vars stay for the rest of the play.
    func adoptRoles(_ items: [TaskItem], isPublic: Bool) {
        for item in items {
            guard case .block(let block) = item else { continue }
            if let run = block.role {
                if includedHandlerFiles.insert(run.handlersFile).inserted { includedHandlers += run.handlers }
                if isPublic, let context = block.common.role { expose(context) }
            }
            adoptRoles(block.tasks + block.rescue + block.always, isPublic: false)
        }
    }

    func describe(_ error: Error, at location: SourceLocation) -> String {
        switch error {
        case let e as ParseError: return e.description
        default: return "\(location): \(error)"
        }
    }
}
