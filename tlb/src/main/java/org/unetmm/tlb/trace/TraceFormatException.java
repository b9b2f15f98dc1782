package org.unetmm.tlb.trace;

import java.nio.file.Path;

/** A trace file that cannot be read: names the file, the line (from 1) and what is wrong there. */
public final class TraceFormatException extends IllegalArgumentException {
    /** The file that was being read. */
    private final Path file;
    /** The offending line, counted from 1. */
    private final long line;

    TraceFormatException(Path file, long line, String problem) {
        super(file + " line " + line + ": " + problem);
        this.file = file;
        this.line = line;
    }

    /** {@return the file that was being read} */
    public Path file() {
        return file;
    }

    /** {@return the offending line, counted from 1} */
    public long line() {
        return line;
    }
}
