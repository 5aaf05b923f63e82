/// `module_defaults:` of the play, its blocks and the task: arguments a module gets when the task
/// does not give them (inner levels over outer ones), keyed by module name (short or FQCN).
enum ModuleDefaults {
    static func defaults(for task: Task, resolve: (String) -> String?) throws -> ValueDict {
        var result = ValueDict()
        for layer in task.common.moduleDefaults {
            for mapping in layer.list ?? [layer] {
                guard case .dict(let modules) = mapping else {
                    throw ModuleError("module_defaults must map module names to their arguments, not \(mapping.typeName)")
                }
                for (name, arguments) in modules {
                    if name.hasPrefix("group/") {
                        throw ModuleError("module_defaults groups ('\(name)') are not implemented yet; name the modules")
                    }
                    guard resolve(name) == task.module else { continue }
                    guard case .dict(let values) = arguments else {
                        throw ModuleError("module_defaults: the defaults of '\(name)' must be a mapping of arguments")
                    }
                    result = result.merging(values)
                }
            }
        }
        return result
    }
}
