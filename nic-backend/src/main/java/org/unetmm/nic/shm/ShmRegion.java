package org.unetmm.nic.shm;

import java.io.IOException;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.EnumSet;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.unetmm.pinning.KernelException;
import org.unetmm.pinning.NativeMemory;
import org.unetmm.pinning.internal.Libc;

/**
 * The shared-memory region of one pair of NICs, mapped by both processes. Named
 * {@code unetmm-<a>+<b>.pair} after the two NIC names in order, so either side finds it and side 0
 * is the smaller name. Either side may create it (the first to {@link ShmTransport#route route} to
 * the other). Its memory is a {@link SealedMemfd} of the creator's process, which nobody can
 * shrink, so no ring access of either side can fault; the file of that name under {@code /dev/shm}
 * (mode 0600, owned by the user) holds the same first page, saying where the memory is (the
 * creator's pid and the memfd's descriptor there) and, for the stale check of processes that do
 * not map the region, each side's process. The creator fills the memory, then the file, and writes
 * the file's {@link #MAGIC} last; the opener waits for it, opens the memory through the creator's
 * descriptor table ({@link SealedMemfd#openPeer}) and checks that it says what the file says.
 *
 * <pre>
 *  offset  field (little-endian)                      written by
 *       0  long magic 'UNMMSHM1' (last, on creation)   creator
 *       8  int  version                                creator
 *      12  int  data ring capacity (bytes, power of 2) creator
 *      16  int  completion ring slots (power of 2)     creator
 *      24  int  the creator's pid        (file only)   creator
 *      28  int  the memfd's descriptor   (file only)   creator
 *      32  long the creator's start time (file only)   creator
 *     128  side 0: int pid, int flags, long heartbeat, side 0       the file has the pid and the
 *               long process start time                             start time, not the rest
 *     256  side 1: the same                            side 1
 *     384  data ring 0 tail (side 0 -> 1)              side 0       each index on a line of its own,
 *     512  data ring 0 head                            side 1       128 bytes apart (two 64-byte
 *     640  data ring 1 tail (side 1 -> 0)              side 1       lines: the adjacent-line
 *     768  data ring 1 head                            side 0       prefetcher pulls pairs)
 *     896  completion ring 0 tail (side 0 -> 1)        side 0
 *    1024  completion ring 0 head                      side 1
 *    1152  completion ring 1 tail (side 1 -> 0)        side 1
 *    1280  completion ring 1 head                      side 0
 *    4096  data ring 0        [capacity]               records of side 0 (see {@link FrameRing}); memfd only
 *       +  data ring 1        [capacity]
 *       +  completion ring 0  [slots x 16]             (long seq, int status, int 0) per slot
 *       +  completion ring 1  [slots x 16]
 * </pre>
 *
 * Ring {@code s} is written by side {@code s} and read by the other. A side's flags: bit 0 it can
 * take part in rendezvous (cross-memory attach works for it), bit 1 it has closed. The heartbeat is
 * a counter its side bumps every millisecond or so while it progresses; the other side notes when
 * it last changed in its own clock, so no clock is shared. The pid and start time name the side's
 * process ({@link ProcessIdentity}) for the stale check; the pid is written last, so a side with a
 * pid has its start time. Nothing read from the region is
 * trusted: a process of the same user can write any of it (see {@link FrameRing}).
 */
final class ShmRegion implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ShmRegion.class);
    static final long MAGIC = 0x314D_4853_4D4D_4E55L; // "UNMMSHM1" little-endian
    static final int VERSION = 5;
    static final int MAGIC_OFFSET = 0;
    static final int VERSION_OFFSET = 8;
    static final int CAPACITY_OFFSET = 12;
    static final int COMPLETION_SLOTS_OFFSET = 16;
    static final int CREATOR_PID_OFFSET = 24;
    static final int MEMFD_OFFSET = 28;
    static final int CREATOR_START_TIME_OFFSET = 32;
    static final int FILE_HEAD_LENGTH = 40;
    static final int SIDE_OFFSET = 128;
    static final int SIDE_LENGTH = 128;
    static final int SIDE_PID_OFFSET = 0;
    static final int SIDE_FLAGS_OFFSET = 4;
    static final int SIDE_HEARTBEAT_OFFSET = 8;
    static final int SIDE_START_TIME_OFFSET = 16;
    static final int DATA_TAIL_OFFSET = 384;
    static final int INDEX_STRIDE = 128;
    static final int COMPLETION_TAIL_OFFSET = 896;
    static final int RINGS_OFFSET = 4096;
    static final int COMPLETION_SLOT_LENGTH = 16;
    static final int FLAG_RENDEZVOUS = 1;
    static final int FLAG_CLOSED = 2;
    static final Set<PosixFilePermission> OWNER_ONLY = PosixFilePermissions.fromString("rw-------");
    private static final VarHandle LONGS = MethodHandles.byteBufferViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);
    private static final VarHandle INTS = MethodHandles.byteBufferViewVarHandle(int[].class, ByteOrder.LITTLE_ENDIAN);

    final Path path;
    final int side;
    final int capacity;
    final int completionSlots;
    final ByteBuffer memory;
    final FrameRing out;
    final FrameRing in;
    /** The memfd, held by the creator while the region is open (a new opener reaches it through it); -1 in the opener. */
    private int memfd;

    private ShmRegion(Path path, int side, MappedByteBuffer mapped, int capacity, int completionSlots, int memfd) {
        this.path = path;
        this.memfd = memfd;
        this.side = side;
        this.capacity = capacity;
        this.completionSlots = completionSlots;
        this.memory = mapped.order(ByteOrder.LITTLE_ENDIAN);
        int other = 1 - side;
        this.out = new FrameRing(memory, dataTail(side), dataTail(side) + INDEX_STRIDE, dataRing(side), capacity,
                completionTail(side), completionTail(side) + INDEX_STRIDE, completionRing(side), completionSlots);
        this.in = new FrameRing(memory, dataTail(other), dataTail(other) + INDEX_STRIDE, dataRing(other), capacity,
                completionTail(other), completionTail(other) + INDEX_STRIDE, completionRing(other), completionSlots);
    }

    static int length(int capacity, int completionSlots) {
        return RINGS_OFFSET + 2 * capacity + 2 * completionSlots * COMPLETION_SLOT_LENGTH;
    }

    private static int dataTail(int side) {
        return DATA_TAIL_OFFSET + side * 2 * INDEX_STRIDE;
    }

    private static int completionTail(int side) {
        return COMPLETION_TAIL_OFFSET + side * 2 * INDEX_STRIDE;
    }

    private int dataRing(int side) {
        return RINGS_OFFSET + side * capacity;
    }

    private int completionRing(int side) {
        return RINGS_OFFSET + 2 * capacity + side * completionSlots * COMPLETION_SLOT_LENGTH;
    }

    /**
     * Opens the region at {@code path} as {@code side}, creating it (with {@code capacity} and
     * {@code completionSlots}) if it does not exist; an existing one keeps its own sizes, checked.
     * Waits at most {@code waitNanos} for a region another process is creating to be filled.
     */
    static ShmRegion openOrCreate(Path path, int side, int capacity, int completionSlots, long waitNanos) {
        try {
            try {
                Files.createFile(path, PosixFilePermissions.asFileAttribute(OWNER_ONLY));
                return create(path, side, capacity, completionSlots);
            } catch (FileAlreadyExistsException e) {
                return open(path, side, waitNanos);
            }
        } catch (AccessDeniedException e) {
            checkOwnershipIfPresent(path); // names the owner and the mode
            throw new ShmException("cannot open the shm region " + path + ": " + e.getMessage() + "; run both NICs as"
                    + " one user, or choose another name");
        } catch (IOException e) {
            throw new ShmException("cannot open the shm region " + path + ": " + e
                    + "; is /dev/shm a writable tmpfs with room for " + length(capacity, completionSlots) + " bytes?");
        }
    }

    private static ShmRegion create(Path path, int side, int capacity, int completionSlots) throws IOException {
        int length = length(capacity, completionSlots);
        int fd = SealedMemfd.create(path.getFileName().toString(), length);
        try (FileChannel memory = SealedMemfd.channel(fd, true)) {
            ShmRegion region = new ShmRegion(path, side, memory.map(FileChannel.MapMode.READ_WRITE, 0, length), capacity,
                    completionSlots, fd);
            region.memory.putInt(VERSION_OFFSET, VERSION);
            region.memory.putInt(CAPACITY_OFFSET, capacity);
            region.memory.putInt(COMPLETION_SLOTS_OFFSET, completionSlots);
            LONGS.setRelease(region.memory, MAGIC_OFFSET, MAGIC);
            ProcessIdentity self = ProcessIdentity.self();
            ByteBuffer head = ByteBuffer.allocate(RINGS_OFFSET).order(ByteOrder.LITTLE_ENDIAN).putInt(VERSION_OFFSET, VERSION)
                    .putInt(CAPACITY_OFFSET, capacity).putInt(COMPLETION_SLOTS_OFFSET, completionSlots)
                    .putInt(CREATOR_PID_OFFSET, self.pid()).putInt(MEMFD_OFFSET, fd)
                    .putLong(CREATOR_START_TIME_OFFSET, self.startTime());
            try (FileChannel file = FileChannel.open(path, StandardOpenOption.WRITE)) {
                file.write(head, 0);
                file.write(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(0, MAGIC), MAGIC_OFFSET);
            }
            return region;
        } catch (IOException | RuntimeException e) {
            SealedMemfd.close(fd);
            throw e;
        }
    }

    private static ShmRegion open(Path path, int side, long waitNanos) throws IOException {
        checkOwnership(path);
        ByteBuffer head = ByteBuffer.allocate(FILE_HEAD_LENGTH).order(ByteOrder.LITTLE_ENDIAN);
        try (FileChannel file = FileChannel.open(path, StandardOpenOption.READ)) {
            long deadline = System.nanoTime() + waitNanos;
            while (true) {
                head.clear();
                file.read(head, 0);
                if (head.position() == FILE_HEAD_LENGTH && head.getLong(MAGIC_OFFSET) == MAGIC) {
                    break;
                }
                if (System.nanoTime() - deadline > 0) {
                    throw new ShmException("the shm region " + path + " was not initialised within "
                            + waitNanos / 1_000_000 + " ms: its creator died while creating it; delete the file");
                }
                Thread.onSpinWait();
            }
        }
        int version = head.getInt(VERSION_OFFSET);
        int capacity = head.getInt(CAPACITY_OFFSET);
        int slots = head.getInt(COMPLETION_SLOTS_OFFSET);
        if (version != VERSION || !ShmConfig.validRing(capacity) || !ShmConfig.validSlots(slots)) {
            throw new ShmException("the shm region " + path + " is not one this version reads (version " + version
                    + ", ring " + capacity + ", completion slots " + slots + "): delete it, or let both ends run one unetmm"
                    + " version");
        }
        int creator = head.getInt(CREATOR_PID_OFFSET);
        int fd = head.getInt(MEMFD_OFFSET);
        try (FileChannel memory = SealedMemfd.openPeer(creator, fd, true)) {
            if (memory == null) {
                throw new ShmException("cannot open the memory of the shm region " + path + " (/proc/" + creator + "/fd/" + fd
                        + "): its creator is gone, or this process may not read that process's descriptors (a hidepid"
                        + " mount of /proc, another pid namespace), or it is not a sealed memfd; run both NICs as one user"
                        + " in one pid namespace, and delete the file if its creator is gone");
            }
            int length = length(capacity, slots);
            MappedByteBuffer mapped = memory.size() < length ? null : memory.map(FileChannel.MapMode.READ_WRITE, 0, length);
            ByteBuffer m = mapped == null ? null : mapped.duplicate().order(ByteOrder.LITTLE_ENDIAN);
            if (m == null || (long) LONGS.getAcquire(m, MAGIC_OFFSET) != MAGIC || m.getInt(VERSION_OFFSET) != version
                    || m.getInt(CAPACITY_OFFSET) != capacity || m.getInt(COMPLETION_SLOTS_OFFSET) != slots) {
                throw new ShmException("the memory of the shm region " + path + " (/proc/" + creator + "/fd/" + fd
                        + ") does not say what its file says: it is not this region's; delete the file");
            }
            return new ShmRegion(path, side, mapped, capacity, slots, -1);
        }
    }

    /**
     * Refuses a home or region that another user owns, or that its owner made readable to others:
     * NICs of two users cannot share one (the kernel lets only the same user read a peer's memory,
     * and a file others may write would steer our reads). The message names the owner, the mode
     * and the fix.
     */
    static void checkOwnership(Path path) throws IOException {
        int uid = (Integer) Files.getAttribute(path, "unix:uid");
        int mine = (Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid");
        Set<PosixFilePermission> mode = Files.getPosixFilePermissions(path);
        String seen = "the shm file " + path + " is owned by uid " + uid + " with mode " + PosixFilePermissions.toString(mode);
        if (uid != mine) {
            throw new ShmException(seen + ", and this NIC runs as uid " + mine + ": NICs of different users cannot share"
                    + " a name or a region (regions are rw------- to their owner, and only the same user may read a"
                    + " peer's memory); run both ends as uid " + uid + ", or choose another name");
        }
        if (!EnumSet.copyOf(OWNER_ONLY).containsAll(mode)) {
            throw new ShmException(seen + ", not rw-------: other users could write it and steer this NIC; it is not"
                    + " a unetmm file of this user: remove it (rm " + path + "), or choose another name");
        }
    }

    /** {@link #checkOwnership}, where the file may be gone: false if it is. */
    static boolean checkOwnershipIfPresent(Path path) {
        try {
            checkOwnership(path);
            return true;
        } catch (NoSuchFileException e) {
            return false;
        } catch (IOException e) {
            throw new ShmException("cannot read the owner of the shm file " + path + ": " + e + "; is /dev/shm readable?");
        }
    }

    /** Fills this side: its process (start time first, the pid last) and whether it can take part in rendezvous. */
    void announce(ProcessIdentity self, boolean rendezvous) {
        int at = SIDE_OFFSET + side * SIDE_LENGTH;
        memory.putLong(at + SIDE_START_TIME_OFFSET, self.startTime());
        INTS.setRelease(memory, at + SIDE_FLAGS_OFFSET, rendezvous ? FLAG_RENDEZVOUS : 0);
        INTS.setRelease(memory, at + SIDE_PID_OFFSET, self.pid());
        try (FileChannel file = FileChannel.open(path, StandardOpenOption.WRITE)) { // for the stale check: start time first
            file.write(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(0, self.startTime()),
                    at + SIDE_START_TIME_OFFSET);
            file.write(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(0, self.pid()), at + SIDE_PID_OFFSET);
        } catch (IOException e) {
            // the file went (the peer took this side for dead, or a sweep): the memory is what the peer reads
        }
    }

    void markClosed() {
        int at = SIDE_OFFSET + side * SIDE_LENGTH + SIDE_FLAGS_OFFSET;
        INTS.setRelease(memory, at, (int) INTS.getAcquire(memory, at) | FLAG_CLOSED);
    }

    void beat(long count) {
        LONGS.setOpaque(memory, SIDE_OFFSET + side * SIDE_LENGTH + SIDE_HEARTBEAT_OFFSET, count);
    }

    int peerPid() {
        return (int) INTS.getAcquire(memory, SIDE_OFFSET + (1 - side) * SIDE_LENGTH + SIDE_PID_OFFSET);
    }

    /** The peer's process as it announced it; {@link ProcessIdentity#NONE} before it did. */
    ProcessIdentity peerIdentity() {
        int at = SIDE_OFFSET + (1 - side) * SIDE_LENGTH;
        int pid = (int) INTS.getAcquire(memory, at + SIDE_PID_OFFSET);
        return pid == 0 ? ProcessIdentity.NONE : new ProcessIdentity(pid, memory.getLong(at + SIDE_START_TIME_OFFSET));
    }

    int peerFlags() {
        return (int) INTS.getAcquire(memory, SIDE_OFFSET + (1 - side) * SIDE_LENGTH + SIDE_FLAGS_OFFSET);
    }

    long peerHeartbeat() {
        return (long) LONGS.getOpaque(memory, SIDE_OFFSET + (1 - side) * SIDE_LENGTH + SIDE_HEARTBEAT_OFFSET);
    }

    /**
     * Both sides' processes as the file says ({@link ProcessIdentity#NONE} for a side not filled
     * yet), then the creator's, for the stale-region check of another process's file; null if it
     * cannot be read.
     */
    static ProcessIdentity[] sides(Path path) {
        try (FileChannel file = FileChannel.open(path, StandardOpenOption.READ)) {
            ByteBuffer head = ByteBuffer.allocate(RINGS_OFFSET).order(ByteOrder.LITTLE_ENDIAN);
            file.read(head, 0);
            if (head.position() < SIDE_OFFSET + 2 * SIDE_LENGTH) {
                return new ProcessIdentity[] {ProcessIdentity.NONE, ProcessIdentity.NONE, ProcessIdentity.NONE};
            }
            int creator = head.getInt(CREATOR_PID_OFFSET);
            return new ProcessIdentity[] {side(head, 0), side(head, 1), creator == 0 ? ProcessIdentity.NONE
                    : new ProcessIdentity(creator, head.getLong(CREATOR_START_TIME_OFFSET))};
        } catch (IOException e) {
            return null;
        }
    }

    private static ProcessIdentity side(ByteBuffer head, int side) {
        int at = SIDE_OFFSET + side * SIDE_LENGTH;
        int pid = head.getInt(at + SIDE_PID_OFFSET);
        return pid == 0 ? ProcessIdentity.NONE : new ProcessIdentity(pid, head.getLong(at + SIDE_START_TIME_OFFSET));
    }

    /** Removes the file; both mappings stay valid until each process drops its own. */
    void remove() {
        try {
            Files.deleteIfExists(path);
        } catch (IOException ignored) {
            // gone already, or /dev/shm unwritable: the stale check of the next open removes it
        }
    }

    @Override
    public void close() {
        markClosed();
        remove();
        synchronized (this) {
            SealedMemfd.close(memfd);
            memfd = -1;
        }
    }

    /**
     * Closes the region of a peer that is gone (dead, or closed itself) and frees its memory now
     * ({@code MADV_REMOVE}: the memfd's pages are released while the mapping stays valid, reading
     * zeros). The mapping itself goes with the garbage collector; until this, so did the pages: a
     * server that clients came to and left held about 2.7 MB of rings for each one gone.
     * A failure only leaves the pages to the collector.
     */
    void closeAndFree() {
        close();
        try {
            Libc.madvise(NativeMemory.address(memory), memory.capacity(), Libc.MADV_REMOVE);
        } catch (KernelException e) {
            LOG.debug("{}: the lost peer's pages stay until the mapping is collected: {}", path, e.getMessage());
        }
    }
}
