package org.unetmm.pinning;

import com.kenai.jffi.MemoryIO;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.concurrent.CopyOnWriteArrayList;
import org.unetmm.pinning.internal.Libc;

/**
 * Page-aligned off-heap memory from {@code mmap}, handed out as direct {@link ByteBuffer}s, and
 * the address of any direct buffer.
 *
 * <p>Optionally each allocation sits between two {@code PROT_NONE} guard pages: a stray write
 * just before or just past it faults instead of silently corrupting a neighbour. Tests that fuzz
 * the NIC with hostile frames use them to prove nothing is written outside a posted buffer.
 *
 * <p>Freeing first asks every live {@link PinCache} to drop its translations of the range; a
 * cache whose region there is still in use refuses with {@link PinInUseException}, and the
 * memory stays mapped (DESIGN §3: freeing waits for, or refuses, in-flight use).
 */
public final class NativeMemory {
    private static final long PAGE = Libc.pageSize();
    private static final MemoryIO IO = MemoryIO.getInstance();
    private static final CopyOnWriteArrayList<FreeListener> FREE_LISTENERS = new CopyOnWriteArrayList<>();
    private static final sun.misc.Unsafe UNSAFE;
    /**
     * Offset of {@code java.nio.Buffer.address}: reading it is a plain load, where JNI's
     * GetDirectBufferAddress is a native call; the pin cache's hit path reads it on every acquire
     * (Netty's PlatformDependent does the same). -1 where the field cannot be found: then JNI.
     */
    private static final long ADDRESS_OFFSET;
    private static final long BYTE_ARRAY_BASE = sun.misc.Unsafe.ARRAY_BYTE_BASE_OFFSET;

    static {
        sun.misc.Unsafe unsafe = null;
        long offset = -1;
        try {
            java.lang.reflect.Field theUnsafe = sun.misc.Unsafe.class.getDeclaredField("theUnsafe");
            theUnsafe.setAccessible(true);
            unsafe = (sun.misc.Unsafe) theUnsafe.get(null);
            offset = unsafe.objectFieldOffset(java.nio.Buffer.class.getDeclaredField("address"));
            ByteBuffer probe = ByteBuffer.allocateDirect(1);
            if (unsafe.getLong(probe, offset) != IO.getDirectBufferAddress(probe)) {
                offset = -1;
            }
        } catch (ReflectiveOperationException | RuntimeException e) {
            offset = -1;
        }
        UNSAFE = unsafe;
        ADDRESS_OFFSET = offset;
    }

    /**
     * Copies {@code length} bytes from {@code from} at absolute index {@code fromIndex} to {@code to}
     * at {@code toIndex}, within both buffers' capacities and whatever their positions and limits
     * say: a buffer handed to the NIC is the NIC's until its completion, and the application's
     * cursors neither grant nor withhold its bytes (the one rule of {@code Endpoint}). Direct
     * buffers are copied by address, heap buffers through their array; both ranges are checked
     * against capacity here too, so a bug upstream throws instead of writing outside a buffer.
     *
     * @param from      the source, direct or heap
     * @param fromIndex absolute index of the first byte to copy
     * @param to        the destination, direct or heap, not read-only
     * @param toIndex   absolute index where the first byte goes
     * @param length    bytes to copy
     * @throws IndexOutOfBoundsException if either range is outside its buffer's capacity
     * @throws java.nio.ReadOnlyBufferException if {@code to} is read-only
     */
    public static void copy(ByteBuffer from, int fromIndex, ByteBuffer to, int toIndex, int length) {
        java.util.Objects.checkFromIndexSize(fromIndex, length, from.capacity());
        java.util.Objects.checkFromIndexSize(toIndex, length, to.capacity());
        if (to.isReadOnly()) {
            throw new java.nio.ReadOnlyBufferException();
        }
        if (UNSAFE == null || ADDRESS_OFFSET < 0 || (!from.isDirect() && !from.hasArray()) || (!to.isDirect() && !to.hasArray())) {
            to.duplicate().clear().put(toIndex, from.duplicate().clear(), fromIndex, length); // views: cursors ignored
            return;
        }
        Object fromBase = from.isDirect() ? null : from.array();
        long fromOffset = from.isDirect() ? UNSAFE.getLong(from, ADDRESS_OFFSET) + fromIndex
                : BYTE_ARRAY_BASE + from.arrayOffset() + fromIndex;
        Object toBase = to.isDirect() ? null : to.array();
        long toOffset = to.isDirect() ? UNSAFE.getLong(to, ADDRESS_OFFSET) + toIndex
                : BYTE_ARRAY_BASE + to.arrayOffset() + toIndex;
        UNSAFE.copyMemory(fromBase, fromOffset, toBase, toOffset, length);
    }

    /**
     * Sets {@code length} bytes of {@code buffer} from {@code index} to zero, in one call (a
     * memset) where the JVM gives access to {@code sun.misc.Unsafe}, else byte by byte.
     *
     * @param buffer a direct or heap buffer, not read-only
     * @param index  absolute index of the first byte
     * @param length bytes to zero
     * @throws IndexOutOfBoundsException if the range is outside the buffer's capacity
     * @throws java.nio.ReadOnlyBufferException if the buffer is read-only
     */
    public static void zero(ByteBuffer buffer, int index, int length) {
        java.util.Objects.checkFromIndexSize(index, length, buffer.capacity());
        if (buffer.isReadOnly()) {
            throw new java.nio.ReadOnlyBufferException();
        }
        if (UNSAFE == null || ADDRESS_OFFSET < 0 || (!buffer.isDirect() && !buffer.hasArray())) {
            for (int i = index, end = index + length; i < end; i++) {
                buffer.put(i, (byte) 0);
            }
            return;
        }
        if (buffer.isDirect()) {
            UNSAFE.setMemory(UNSAFE.getLong(buffer, ADDRESS_OFFSET) + index, length, (byte) 0);
        } else {
            UNSAFE.setMemory(buffer.array(), BYTE_ARRAY_BASE + buffer.arrayOffset() + index, length, (byte) 0);
        }
    }

    /**
     * Copies {@code length} bytes from native address {@code fromAddress} into {@code to} at
     * {@code toIndex} (checked against its capacity). For a wire that kept a fragment's gather
     * pieces ({@code PayloadSource.retain()}): the NIC keeps those pages pinned and mapped until
     * the wire releases the fragment, so the address stays valid; any other address is the
     * caller's bug and may crash the JVM.
     *
     * @param fromAddress native address of the first byte to copy
     * @param to          the destination, direct or heap, not read-only
     * @param toIndex     absolute index where the first byte goes
     * @param length      bytes to copy
     * @throws IndexOutOfBoundsException if the range is outside {@code to}'s capacity
     * @throws UnsupportedOperationException where this JVM gives no access to {@code sun.misc.Unsafe}
     */
    public static void copyFromAddress(long fromAddress, ByteBuffer to, int toIndex, int length) {
        java.util.Objects.checkFromIndexSize(toIndex, length, to.capacity());
        if (to.isReadOnly()) {
            throw new java.nio.ReadOnlyBufferException();
        }
        if (UNSAFE == null || ADDRESS_OFFSET < 0 || (!to.isDirect() && !to.hasArray())) {
            throw new UnsupportedOperationException("this JVM gives no access to sun.misc.Unsafe: cannot copy from a"
                    + " native address; copy the payload while transmit() runs instead");
        }
        Object toBase = to.isDirect() ? null : to.array();
        long toOffset = to.isDirect() ? UNSAFE.getLong(to, ADDRESS_OFFSET) + toIndex
                : BYTE_ARRAY_BASE + to.arrayOffset() + toIndex;
        UNSAFE.copyMemory(null, fromAddress, toBase, toOffset, length);
    }

    /** Told before library-allocated memory is unmapped; may refuse by throwing {@link PinInUseException}. */
    public interface FreeListener {
        /**
         * Told that [address, address+length) is about to be unmapped.
         *
         * @param address first byte of the mapping's usable pages
         * @param length  bytes, a whole number of pages
         * @throws PinInUseException to refuse the free while a region over the range is in use
         */
        void beforeFree(long address, long length);
    }

    private NativeMemory() {
    }

    /** {@return the size of a virtual memory page in bytes, as the kernel reports it} */
    public static long pageSize() {
        return PAGE;
    }

    /**
     * Page-aligned memory of {@code bytes} bytes, zero-filled, without guard pages.
     *
     * @param bytes usable bytes, positive; the mapping is rounded up to whole pages
     * @return the memory, owned by the caller until it closes it
     * @throws IllegalArgumentException if {@code bytes} is not positive
     * @throws KernelException if {@code mmap} fails
     */
    public static NativeBuffer allocate(int bytes) {
        return allocate(bytes, false);
    }

    /**
     * Page-aligned memory of {@code bytes} bytes, zero-filled. With {@code guardPages}, one
     * {@code PROT_NONE} page is mapped right before the first page and right after the last.
     *
     * @param bytes      usable bytes, positive; the mapping is rounded up to whole pages
     * @param guardPages whether to map a {@code PROT_NONE} page on either side
     * @return the memory, owned by the caller until it closes it
     * @throws IllegalArgumentException if {@code bytes} is not positive
     * @throws KernelException if {@code mmap} or {@code mprotect} fails
     */
    public static NativeBuffer allocate(int bytes, boolean guardPages) {
        if (bytes <= 0) {
            throw new IllegalArgumentException("allocation size must be positive, got " + bytes);
        }
        long usable = roundUpToPage(bytes);
        long guard = guardPages ? PAGE : 0;
        long mapped = usable + 2 * guard;
        long base = Libc.mmapAnonymous(mapped, Libc.PROT_READ | Libc.PROT_WRITE);
        if (guardPages) {
            try {
                Libc.mprotect(base, PAGE, Libc.PROT_NONE);
                Libc.mprotect(base + PAGE + usable, PAGE, Libc.PROT_NONE);
            } catch (KernelException e) {
                Libc.munmap(base, mapped);
                throw e;
            }
        }
        long address = base + guard;
        ByteBuffer buffer = IO.newDirectByteBuffer(address, bytes).order(ByteOrder.nativeOrder());
        return new NativeBuffer(buffer, address, bytes, base, mapped, guardPages);
    }

    static void free(NativeBuffer memory) {
        for (FreeListener listener : FREE_LISTENERS) {
            listener.beforeFree(memory.address(), roundUpToPage(memory.capacity()));
        }
        Libc.munmap(memory.mappingBase(), memory.mappingLength());
    }

    /**
     * The address of byte 0 of a direct buffer (of a slice: of the slice's first byte).
     *
     * @throws UnpinnableBufferException for a heap buffer, which has no stable address
     * @param buffer a direct buffer, not null
     * @return its address; the buffer must stay reachable while the address is used
     */
    public static long address(ByteBuffer buffer) {
        if (buffer == null) {
            throw new NullPointerException("buffer is null");
        }
        if (!buffer.isDirect()) {
            throw new UnpinnableBufferException("cannot pin a heap ByteBuffer (the garbage collector moves it):"
                    + " use a direct buffer (ByteBuffer.allocateDirect or NativeMemory.allocate)"
                    + " or the FIXED_SEGMENT path, which copies");
        }
        long address = ADDRESS_OFFSET >= 0 ? UNSAFE.getLong(buffer, ADDRESS_OFFSET) : IO.getDirectBufferAddress(buffer);
        if (address == 0) {
            throw new UnpinnableBufferException("direct buffer has no address (it may have been freed)");
        }
        return address;
    }

    /**
     * {@return {@code bytes} rounded up to a whole number of pages}
     *
     * @param bytes a byte count, not negative
     */
    public static long roundUpToPage(long bytes) {
        return (bytes + PAGE - 1) & -PAGE;
    }

    /**
     * {@return the number of the page holding {@code address} (address / page size)}
     *
     * @param address a virtual address
     */
    public static long pageOf(long address) {
        return address / PAGE;
    }

    /**
     * Registers a listener told before any library-allocated memory is unmapped (a NIC refusing
     * frees in flight). Listeners registered later are told first: a NIC, built over its pin cache,
     * refuses before the cache drops anything.
     *
     * @param listener told before each unmap; it may refuse by throwing {@link PinInUseException}
     */
    public static void addFreeListener(FreeListener listener) {
        FREE_LISTENERS.add(0, listener);
    }

    /**
     * Stops telling {@code listener} of frees; a listener not registered is ignored.
     *
     * @param listener one passed to {@link #addFreeListener}
     */
    public static void removeFreeListener(FreeListener listener) {
        FREE_LISTENERS.remove(listener);
    }
}
