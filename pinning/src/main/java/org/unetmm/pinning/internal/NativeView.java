package org.unetmm.pinning.internal;

import java.nio.Buffer;
import java.nio.ByteBuffer;

/**
 * One direct {@link ByteBuffer} re-pointed at any native range, so that an API which takes a
 * ByteBuffer ({@code CRC32C.update(ByteBuffer)}) can read memory in place without a view object
 * per call: {@code duplicate()} for every fragment would allocate on the data path.
 *
 * <p>The view is a real direct buffer (its own byte, freed by its own cleaner, which remembers
 * that address, not the view's); {@link #over} rewrites its address and capacity fields through
 * {@code sun.misc.Unsafe}. Where the JVM gives no such access, or the probe at class load does not
 * read back what it wrote, {@link #available()} is false and callers read another way. Not
 * thread-safe: one per user, and the range must stay mapped while the returned view is read.
 */
public final class NativeView {
    private static final sun.misc.Unsafe UNSAFE;
    private static final long ADDRESS;
    private static final long CAPACITY;
    private static final boolean AVAILABLE;

    static {
        sun.misc.Unsafe unsafe = null;
        long address = -1;
        long capacity = -1;
        boolean works = false;
        try {
            java.lang.reflect.Field theUnsafe = sun.misc.Unsafe.class.getDeclaredField("theUnsafe");
            theUnsafe.setAccessible(true);
            unsafe = (sun.misc.Unsafe) theUnsafe.get(null);
            address = unsafe.objectFieldOffset(Buffer.class.getDeclaredField("address"));
            capacity = unsafe.objectFieldOffset(Buffer.class.getDeclaredField("capacity"));
            ByteBuffer target = ByteBuffer.allocateDirect(64);
            target.put(37, (byte) 0x5A);
            ByteBuffer probe = ByteBuffer.allocateDirect(1);
            long base = unsafe.getLong(target, address);
            unsafe.putLong(probe, address, base + 37);
            unsafe.putInt(probe, capacity, 27);
            probe.clear();
            works = probe.remaining() == 27 && probe.get(0) == 0x5A;
        } catch (ReflectiveOperationException | RuntimeException | LinkageError e) {
            works = false;
        }
        UNSAFE = unsafe;
        ADDRESS = address;
        CAPACITY = capacity;
        AVAILABLE = works;
    }

    private final ByteBuffer view = ByteBuffer.allocateDirect(1);

    /** Whether views can be re-pointed on this JVM. */
    public static boolean available() {
        return AVAILABLE;
    }

    /**
     * The view over {@code [address, address + length)}, position 0 and limit {@code length}; valid
     * until the next call. The caller checks the range lies in memory it may read.
     */
    public ByteBuffer over(long address, int length) {
        if (!AVAILABLE) {
            throw new UnsupportedOperationException("this JVM gives no access to a direct buffer's address: check"
                    + " NativeView.available() first");
        }
        if (length < 0) {
            throw new IllegalArgumentException("negative length " + length);
        }
        UNSAFE.putLong(view, ADDRESS, address);
        UNSAFE.putInt(view, CAPACITY, length);
        view.clear();
        return view;
    }
}
