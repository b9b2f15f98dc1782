package org.unetmm.nic.shm;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A process as the shm files name it: its pid and its start time, field 22 of
 * {@code /proc/PID/stat} (clock ticks after boot; proc(5)). A pid alone does not name a process
 * for long: after a NIC's process is killed the kernel hands its pid to the next process that
 * forks, and a home or region naming that pid would look held for ever. The pair does name it: a
 * file is live only while a process with that pid <em>and</em> that start time runs.
 *
 * @param pid       the process id, positive; 0 where a file names none (not filled yet, or not ours)
 * @param startTime its start time in clock ticks after boot; 0 where unknown
 */
record ProcessIdentity(int pid, long startTime) {
    static final ProcessIdentity NONE = new ProcessIdentity(0, 0);
    /** Field 22 of /proc/PID/stat, counted from field 3 (the first after the parenthesised command). */
    private static final int START_TIME_AFTER_COMMAND = 22 - 3;

    /** This process. */
    static ProcessIdentity self() {
        int pid = (int) ProcessHandle.current().pid();
        return new ProcessIdentity(pid, startTime(pid));
    }

    /** Whether the process this names still runs: the pid exists and started when this says. */
    boolean alive() {
        return pid > 0 && startTime > 0 && startTime(pid) == startTime;
    }

    /**
     * The start time of process {@code pid}, or -1 when there is none. The command (field 2) may
     * hold spaces and parentheses, so the fields are counted from the last ')'.
     */
    static long startTime(int pid) {
        String stat;
        try {
            stat = new String(Files.readAllBytes(Path.of("/proc", Integer.toString(pid), "stat")), StandardCharsets.US_ASCII);
        } catch (IOException e) {
            return -1; // no such process (or /proc hides it: then it is not ours to keep alive either)
        }
        int close = stat.lastIndexOf(')');
        String[] fields = stat.substring(close + 1).trim().split(" ");
        if (close < 0 || fields.length <= START_TIME_AFTER_COMMAND) {
            return -1;
        }
        try {
            return Long.parseLong(fields[START_TIME_AFTER_COMMAND]);
        } catch (NumberFormatException e) {
            return -1;
        }
    }
}
