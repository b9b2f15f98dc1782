package org.unetmm.pinning;

/**
 * The buffer cannot be pinned: it lives on the Java heap (the garbage collector may move it),
 * or the range asked for lies outside it. Use a direct buffer
 * ({@link java.nio.ByteBuffer#allocateDirect}, {@link NativeMemory#allocate}) or the
 * FIXED_SEGMENT path, which copies instead of pinning.
 */
public class UnpinnableBufferException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;

    /**
     * A refusal; {@code message} names the buffer's problem and the fix.
     *
     * @param message what is wrong with the buffer and what to use instead
     */
    public UnpinnableBufferException(String message) {
        super(message);
    }
}
