import Foundation

/// `async`/`poll` on a task and `async_status`, with nothing but `sh` on the host:
/// - `poll` > 0: each command the task runs is watched and killed after `async` seconds
///   ("async task did not complete within the requested time"); other actions are done as usual.
/// - `poll: 0`: the task's one command starts detached and the task returns its job id at once;
///   the job is killed after `async` seconds too. Its output goes to `~/.ansible_async/JID.*`,
///   which `async_status: {jid, mode}` reads (and `mode: cleanup` removes).
struct AsyncJob {
    var id: String
    var seconds: Int
    var poll: Int
    var start = Date()

    /// Ansible's default poll interval.
    static let defaultPoll = 15

    /// Runs `"$@"` and kills it after `$1` seconds, with its children when `setsid` gives it a
    /// process group of its own; the watchdog checks each second, so it ends soon after the command.
    static let watchdog = #"""
    t=$1; shift
    if command -v setsid >/dev/null 2>&1; then setsid "$@" 0<&0 & else "$@" 0<&0 & fi
    p=$!
    ( i=0; while [ "$i" -lt "$t" ]; do sleep 1; kill -0 "$p" 2>/dev/null || exit 0; i=$((i+1)); done
      kill -TERM -"$p" 2>/dev/null || kill -TERM "$p"; sleep 2; kill -KILL -"$p" 2>/dev/null || kill -KILL "$p" ) </dev/null >/dev/null 2>&1 &
    wait "$p"
    """#

    /// Starts `"$@"` detached under the watchdog, its output and status in the job's files. Where
    /// bash is, the job first closes every inherited descriptor but 0-2 (dash cannot name fds above
    /// 9), so nothing that waits on the starter's descriptors waits for the job.
    static let detached = #"""
    j=$1; t=$2; shift 2
    d="${HOME:-/tmp}/.ansible_async"
    mkdir -p "$d" || exit 1
    date '+%Y-%m-%d %H:%M:%S' > "$d/$j.start"
    job='d=$1; j=$2; t=$3; w=$4; shift 4
    sh -c "$w" watchdog "$t" "$@" >"$d/$j.out" 2>"$d/$j.err" </dev/null
    echo $? > "$d/$j.rc.tmp"; date "+%Y-%m-%d %H:%M:%S" > "$d/$j.end"; mv "$d/$j.rc.tmp" "$d/$j.rc"'
    if command -v bash >/dev/null 2>&1; then
      bash -c 'for f in /proc/$$/fd/*; do n=${f##*/}; [ "$n" -gt 2 ] 2>/dev/null && eval "exec $n>&-"; done; exec sh -c "$@"' \
        closefds "$job" job "$d" "$j" "$t" "$0" "$@" </dev/null >/dev/null 2>&1 &
    else
      sh -c "$job" job "$d" "$j" "$t" "$0" "$@" </dev/null >/dev/null 2>&1 &
    fi
    echo "$d/$j"
    """#

    /// What `async_status` reads: state, then the job's output in base64.
    static let status = #"""
    d="${HOME:-/tmp}/.ansible_async"; j=$1
    [ -e "$d/$j.start" ] || { echo missing; exit 0; }
    if [ "$2" = cleanup ]; then rm -f "$d/$j.start" "$d/$j.end" "$d/$j.out" "$d/$j.err" "$d/$j.rc" "$d/$j.rc.tmp"; echo erased; exit 0; fi
    if [ -e "$d/$j.rc" ]; then echo "finished $(cat "$d/$j.rc")"; else echo running; fi
    echo "start $(cat "$d/$j.start")"; echo "end $(cat "$d/$j.end" 2>/dev/null)"
    echo "out $(base64 < "$d/$j.out" 2>/dev/null | tr -d '\n')"; echo "err $(base64 < "$d/$j.err" 2>/dev/null | tr -d '\n')"
    """#

    var resultsFile: String { "~/.ansible_async/\(id)" }

    /// The plan with its commands watched (poll > 0) or its one command started detached (poll 0).
    func wrapping(_ plan: Plan, module: String) throws -> Plan {
        guard plan.steps.isEmpty else {
            throw ModuleError("async: '\(module)' works in steps that provision cannot run asynchronously yet; leave out async/poll")
        }
        var plan = plan
        let runs = plan.changes.flatMap(\.actions).filter { if case .run = $0 { return true }; return false }
        if poll == 0 && plan.isChanged && (runs.count != 1 || plan.changes.flatMap(\.actions).count != 1) {
            throw ModuleError("async with poll: 0 needs a task that runs one command (command, shell, ...); "
                + "'\(module)' does \(plan.changes.flatMap(\.actions).map(\.summary).joined(separator: ", ")): use poll > 0")
        }
        for c in plan.changes.indices {
            plan.changes[c].actions = plan.changes[c].actions.map { action in
                guard case .run(var command) = action else { return action }
                command.argv = poll == 0
                    ? ["/bin/sh", "-c", AsyncJob.detached, AsyncJob.watchdog, id, String(seconds)] + command.argv
                    : ["/bin/sh", "-c", AsyncJob.watchdog, "watchdog", String(seconds)] + command.argv
                if poll == 0 { command.stdin = nil }
                return .run(command)
            }
        }
        return plan
    }

    /// The task's result as Ansible reports an async task.
    func finish(_ outcome: inout HostRun.ItemOutcome) {
        outcome.result["ansible_job_id"] = .string(id)
        outcome.result["results_file"] = .string(resultsFile)
        outcome.result["started"] = true
        if poll == 0 {
            for key in ["rc", "stdout", "stderr", "stdout_lines", "stderr_lines", "cmd"] { outcome.result[key] = nil }
            outcome.result["finished"] = false
            return
        }
        outcome.result["finished"] = true
        if outcome.status == .failed, Date().timeIntervalSince(start) >= Double(seconds) {
            // Ansible's shape: the last poll's state under `async_result`, no command fields at the top.
            let message = "async task did not complete within the requested time - \(seconds)s"
            outcome.message = message
            outcome.result = [
                "async_result": .dict([
                    "ansible_job_id": .string(id), "results_file": .string(resultsFile), "started": true, "finished": false,
                    "stdout": "", "stderr": "", "stdout_lines": .list([]), "stderr_lines": .list([]),
                ]),
                "changed": false, "failed": true, "msg": .string(message),
            ]
        }
    }
}

extension HostRun {
    /// The task's async job, when it has `async:` (rendered now).
    func asyncJob(_ task: Task, _ templar: Templar) throws -> AsyncJob? {
        guard let settings = task.asynchronous else { return nil }
        func number(_ value: Value?, _ name: String, default fallback: Int) throws -> Int {
            guard let value else { return fallback }
            let rendered = try templar.render(value)
            guard let n = Int(PythonString.strip(rendered.pythonText)), n >= 0 else {
                throw ModuleError("'\(name)' must be a whole number of seconds, not \(rendered.pythonText)")
            }
            return n
        }
        let seconds = try number(settings.seconds, "async", default: 0)
        // async: 0 is an ordinary task, as in Ansible.
        guard seconds > 0 else { return nil }
        let poll = try number(settings.poll, "poll", default: AsyncJob.defaultPoll)
        let id = "j\(UInt32.random(in: 100_000_000...UInt32.max)).\(getpid())"
        return AsyncJob(id: id, seconds: seconds, poll: poll)
    }

    /// `async_status: {jid, mode: status|cleanup}`.
    func asyncStatus(_ task: Task, _ templar: Templar) throws -> ItemOutcome {
        let args = try actionArguments(task, templar)
        guard let jid = args["jid"]?.pythonText, !jid.isEmpty else { throw ModuleError("async_status needs 'jid'", argument: "jid") }
        let mode = args["mode"]?.pythonText ?? "status"
        guard ["status", "cleanup"].contains(mode) else { throw ModuleError("async_status: mode is status or cleanup, not \(mode)", argument: "mode") }
        guard jid.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "." || $0 == "_" }) else {
            throw ModuleError("async_status: '\(jid)' is not a job id", argument: "jid")
        }
        let argv = ["/bin/sh", "-c", AsyncJob.status, "async_status", jid, mode]
        let observed = try transport(try become(task.common)).observe([.command(argv)])
        guard let output = observed.command(argv), output.status == 0 else { throw ModuleError("async_status could not read job \(jid)") }
        var fields: [String: String] = [:]
        var state = ""
        for line in output.stdout.split(separator: "\n", omittingEmptySubsequences: false) {
            let parts = line.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: false)
            if state.isEmpty { state = String(parts[0]); if parts.count > 1 { fields["rc"] = String(parts[1]) }; continue }
            if parts.count == 2 { fields[String(parts[0])] = String(parts[1]) } else if parts.count == 1 { fields[String(parts[0])] = "" }
        }
        var result: ValueDict = ["ansible_job_id": .string(jid), "results_file": .string("~/.ansible_async/\(jid)"), "changed": false]
        switch state {
        case "missing":
            let message = "could not find job \(jid)"
            result["failed"] = true
            result["msg"] = .string(message)
            result["started"] = true
            result["finished"] = true
            return ItemOutcome(status: .failed, message: message, result: result)
        case "erased":
            result["erased"] = .string("~/.ansible_async/\(jid)")
            result["started"] = false
            result["finished"] = false
            return ItemOutcome(status: .ok, result: result)
        default: break
        }
        func decoded(_ key: String) -> String {
            String(decoding: Data(base64Encoded: fields[key] ?? "") ?? Data(), as: UTF8.self).trimmingTrailingNewline
        }
        result["started"] = true
        result["stdout"] = .string(decoded("out"))
        result["stderr"] = .string(decoded("err"))
        result["stdout_lines"] = .list(decoded("out").lines.map(Value.string))
        result["stderr_lines"] = .list(decoded("err").lines.map(Value.string))
        guard state == "finished", let rc = Int32(fields["rc"] ?? "") else {
            result["finished"] = false
            return ItemOutcome(status: .ok, result: result)
        }
        result["finished"] = true
        result["rc"] = .int(Int(rc))
        result["start"] = .string(fields["start"] ?? "")
        result["end"] = .string(fields["end"] ?? "")
        result["changed"] = true
        if rc != 0 {
            let message = "non-zero return code"
            result["failed"] = true
            result["msg"] = .string(message)
            return ItemOutcome(status: .failed, message: "job \(jid): \(message) (\(rc))", result: result)
        }
        return ItemOutcome(status: .changed, result: result)
    }
}
