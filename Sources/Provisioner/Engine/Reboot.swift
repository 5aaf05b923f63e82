import Foundation

/// `reboot`, as Ansible's action does it: read the boot id (`boot_time_command`), run the reboot
/// command, then reconnect through the transport until the boot id has changed (within
/// `reboot_timeout`), wait `post_reboot_delay`, and run `test_command` until it succeeds.
/// The local connection is refused: it would reboot the machine provision runs on.
extension HostRun {
    static let rebootArguments: Set<String> = [
        "pre_reboot_delay", "post_reboot_delay", "reboot_timeout", "test_command", "msg", "boot_time_command",
        "reboot_command", "search_paths",
    ]

    func reboot(_ task: Task, _ templar: Templar) throws -> ItemOutcome {
        let args = try actionArguments(task, templar)
        func seconds(_ key: String, _ fallback: Int) throws -> Int {
            guard let value = args[key] else { return fallback }
            guard let n = Int(PythonString.strip(value.pythonText)), n >= 0 else {
                throw ModuleError("reboot: '\(key)' must be a whole number of seconds", argument: key)
            }
            return n
        }
        let preDelay = try seconds("pre_reboot_delay", 0)
        let postDelay = try seconds("post_reboot_delay", 0)
        let timeout = try seconds("reboot_timeout", 600)
        let testCommand = args["test_command"]?.pythonText ?? "whoami"
        let bootCommand = args["boot_time_command"]?.pythonText ?? "cat /proc/sys/kernel/random/boot_id"
        let searchPaths = try HostRun.words(args["search_paths"], default: ["/sbin", "/bin", "/usr/sbin", "/usr/bin", "/usr/local/sbin"])
        let message = args["msg"]?.pythonText ?? "Reboot initiated by Ansible"
        let rebootCommand = args["reboot_command"]?.pythonText
            ?? "shutdown -r \(preDelay / 60) \(TemplateFilters.shellQuote(message))"

        if connection is LocalConnection {
            throw ModuleError("Running reboot with local connection would reboot the control node.")
        }
        let checkMode = try task.common.checkMode.map { try isTrue($0, templar) } ?? engine.options.checkMode
        if checkMode { return ItemOutcome(status: .changed, result: ["changed": true, "rebooted": true, "elapsed": 0]) }

        let runAs = try become(task.common)
        let path = "PATH=\"$PATH:\(searchPaths.joined(separator: ":"))\"; export PATH; "
        func run(_ command: String) throws -> CommandOutput {
            let argv = ["/bin/sh", "-c", path + command]
            guard let output = try transport(runAs).observe([.command(argv)]).command(argv) else {
                throw TransportError("no answer to '\(command)'", unreachable: true)
            }
            return output
        }
        let before = try run(bootCommand)
        guard before.status == 0 else {
            throw ModuleError("reboot: boot_time_command '\(bootCommand)' failed: \(before.stderr.trimmingTrailingNewline)")
        }
        let start = Date()
        if preDelay > 0 && preDelay < 60 { Thread.sleep(forTimeInterval: Double(preDelay)) }
        // The command may take the connection down with it: an error here is expected.
        if let started = try? run(rebootCommand), started.status != 0, !started.stderr.isEmpty {
            throw ModuleError("reboot command '\(rebootCommand)' failed (\(started.status)): \(started.stderr.trimmingTrailingNewline)")
        }
        reconnect()
        let deadline = start.addingTimeInterval(Double(timeout))
        var lastError = "the host did not answer"
        func retry(_ what: String, until done: () throws -> Bool) throws {
            var pause = 1.0
            while true {
                do {
                    if try done() { return }
                } catch {
                    lastError = "\(error)"
                    reconnect()
                }
                guard Date().addingTimeInterval(pause) < deadline else {
                    throw ModuleError("reboot: \(what) within reboot_timeout (\(timeout) s); last: \(lastError)")
                }
                Thread.sleep(forTimeInterval: pause)
                pause = min(pause * 2, 10)
            }
        }
        try retry("the host did not come back with a new boot id") {
            let now = try run(bootCommand)
            lastError = now.status == 0 ? "boot id unchanged" : now.stderr
            return now.status == 0 && now.stdout != before.stdout
        }
        if postDelay > 0 { Thread.sleep(forTimeInterval: Double(postDelay)) }
        try retry("test_command '\(testCommand)' did not succeed") {
            let test = try run(testCommand)
            lastError = "exit \(test.status): \(test.stderr.trimmingTrailingNewline)"
            return test.status == 0
        }
        invalidateObservations()
        return ItemOutcome(status: .changed, result: ["changed": true, "rebooted": true, "elapsed": .int(Int(Date().timeIntervalSince(start)))])
    }
}
