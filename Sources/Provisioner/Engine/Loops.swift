import Foundation

/// A task's loop as Ansible 2.19 runs it: `loop:` must give a list; `with_X:` terms are rendered,
/// made a list (a bare string is one term) and handed to lookup X; loop_control's `loop_var`,
/// `index_var`, `extended` (`ansible_loop`), `pause` and `label`.
extension HostRun {
    func loopItems(of task: Task, _ templar: Templar) throws -> [Value] {
        guard let loop = task.loop else { return [] }
        return try loopItems(loop, with: task.loopWith, templar, action: task.module)
    }

    func loopItems(of include: Include, _ templar: Templar) throws -> [Value] {
        guard let loop = include.loop else { return [] }
        return try loopItems(loop, with: include.loopWith, templar, action: include.role == nil ? "include_tasks" : "include_role")
    }

    /// `action` picks the folder `with_first_found` searches: templates/ for template tasks,
    /// vars/ for include_vars, files/ otherwise.
    func loopItems(_ loop: Value, with lookup: String?, _ templar: Templar, action: String) throws -> [Value] {
        guard let lookup else {
            let rendered = try loop.string.map { try templar.render($0) } ?? templar.render(loop)
            guard let items = rendered.list else {
                throw ModuleError("The `loop` value must resolve to a 'list', not '\(rendered.typeName)' (\(rendered.pythonText)): "
                    + "provide a list of items, or a template giving one (with_items: takes a single value)")
            }
            return items
        }
        var terms: Value
        if case .string(let text) = loop {
            terms = try templar.render(PythonString.strip(text))
        } else {
            terms = try templar.render(loop)
        }
        if terms.list == nil { terms = .list([terms]) }
        var options: [String: Value] = [:]
        if lookup == "first_found" {
            options["_subdir"] = .string(action.contains("template") ? "templates" : action.contains("var") ? "vars" : "files")
        }
        return try templar.loopLookup(lookup, terms: terms.list ?? [], options: options)
    }

    /// What one loop item adds to a task's variables: the item under `loop_var`, `index_var`,
    /// and with `extended`, `ansible_loop` (index, first, last, previtem, allitems, ...).
    func loopVariables(_ control: LoopControl, _ item: Value, _ index: Int, of items: [Value], _ templar: Templar) throws -> ValueDict {
        var vars = ValueDict()
        // Items are what a template gave (often a host's output): marked, never rendered again.
        vars[control.loopVar] = .untrusted(item)
        vars["ansible_loop_var"] = .string(control.loopVar)
        if let indexVar = control.indexVar {
            vars[indexVar] = .int(index)
            vars["ansible_index_var"] = .string(indexVar)
        }
        if try isTrue(control.extended, templar) {
            var loop = ValueDict()
            if try control.extendedAllItems.map({ try isTrue($0, templar) }) ?? true { loop["allitems"] = .list(items) }
            loop["index"] = .int(index + 1)
            loop["index0"] = .int(index)
            loop["first"] = .bool(index == 0)
            loop["last"] = .bool(index == items.count - 1)
            loop["length"] = .int(items.count)
            loop["revindex"] = .int(items.count - index)
            loop["revindex0"] = .int(items.count - index - 1)
            if index > 0 { loop["previtem"] = items[index - 1] }
            if index + 1 < items.count { loop["nextitem"] = items[index + 1] }
            vars["ansible_loop"] = .untrusted(.dict(loop))
        }
        return vars
    }

    /// `loop_control.pause`: seconds between items (not before the first).
    func pauseBetweenItems(_ control: LoopControl, _ templar: Templar) throws {
        guard let pause = control.pause else { return }
        let rendered = try templar.render(pause)
        guard let seconds = Double(rendered.pythonText), seconds >= 0 else {
            throw ModuleError("loop_control.pause must be a number of seconds, not \(rendered.pythonText)")
        }
        if seconds > 0 { Thread.sleep(forTimeInterval: seconds) }
    }
}
