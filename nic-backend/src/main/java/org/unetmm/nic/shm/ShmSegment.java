package org.unetmm.nic.shm;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import org.unetmm.pinning.NativeBuffer;
import org.unetmm.pinning.NativeMemory;
import org.unetmm.pinning.internal.Libc;

/**
 * An endpoint's fixed segment in shared memory, as base U-Net's communication segment. Its bytes
 * live in a {@link SealedMemfd} of the owning process, which nobody can shrink, so a peer's copy out
 * of its mapping never faults.
 *
 * <p>Peers find the segment through a small file under {@code /dev/shm} (mode 0600, owned by the
 * user), {@code unetmm-<name>@<number>.seg} after the NIC's name and a number it draws per segment
 * ({@code @} is not allowed in a name, so no NIC's files pass for another's), which names the
 * owner's process and the memfd's descriptor there. A peer opens the memfd through the owner's
 * descriptor table ({@link SealedMemfd#openPeer}), checks that its own header repeats the file's,
 * and maps it read-only. The owner maps the memfd read-write over the segment's own pages
 * ({@link ShmTransport#segmentMemory}: the engine pins and frees them as any segment). A fixed-path send copies the user's bytes into the
 * segment; its frame names (number, offset, length) and the peer's NIC copies them out of its
 * mapping into the posted buffer: two copies, as base U-Net, and no third through the ring.
 *
 * <pre>
 *  offset  field (little-endian), in the file and again in the memfd   written by
 *       0  long magic 'UNMMSEG2' (last)                                the owner
 *       8  int  pid of the owner's process
 *      12  int  segment bytes
 *      16  long the owner's process start time
 *      24  int  the memfd's descriptor in the owner's process
 *      28  int  the segment's number
 *    4096  the segment [bytes, rounded up to a page]  (memfd only)     the owner's sends
 * </pre>
 *
 * The owner removes the file and closes the memfd when the segment is freed (its endpoint closed)
 * or its NIC closes (peers keep their mappings until they drop them); a peer that finds the owner
 * dead removes the file, and {@link ShmDirectory#removeStale} removes one whose owner is gone when
 * a NIC opens (the memfd went with its process). Nothing a peer reads here is trusted: the header
 * is checked against the peer it names, and every (offset, length) of a frame against the
 * segment's bytes before the NIC copies ({@link Receiver}).
 */
final class ShmSegment {
    static final long MAGIC = 0x3247_4553_4D4D_4E55L; // "UNMMSEG2" little-endian
    static final int MAGIC_OFFSET = 0;
    static final int PID_OFFSET = 8;
    static final int BYTES_OFFSET = 12;
    static final int START_TIME_OFFSET = 16;
    static final int FD_OFFSET = 24;
    static final int NUMBER_OFFSET = 28;
    static final int HEADER_LENGTH = 32;
    /** Where the segment's bytes start in the memfd: a page, so they map page-aligned. */
    static final int DATA_OFFSET = 4096;
    static final String SUFFIX = ".seg";
    /** The most segments a NIC numbers; a frame naming a number above it is dropped before any lookup. */
    static final int MAX_NUMBER = 1 << 16;
    private static final int MAP_FIXED = 0x10;

    final Path path;
    final int number;
    /** The segment's memory in the owner; the engine pins it and closes it. */
    final NativeBuffer memory;
    final long address;
    final int bytes;
    /** The memfd, open while the segment is shared; -1 once {@link #remove}d. */
    private int fd;

    private ShmSegment(Path path, int number, NativeBuffer memory, int fd) {
        this.path = path;
        this.number = number;
        this.memory = memory;
        this.address = memory.address();
        this.bytes = memory.capacity();
        this.fd = fd;
    }

    static Path path(String name, int number) {
        return ShmDirectory.ROOT.resolve(ShmDirectory.PREFIX + name + "@" + number + SUFFIX);
    }

    private static ByteBuffer header(ProcessIdentity owner, int bytes, int fd, int number) {
        return ByteBuffer.allocate(HEADER_LENGTH).order(ByteOrder.LITTLE_ENDIAN).putLong(MAGIC_OFFSET, MAGIC)
                .putInt(PID_OFFSET, owner.pid()).putInt(BYTES_OFFSET, bytes).putLong(START_TIME_OFFSET, owner.startTime())
                .putInt(FD_OFFSET, fd).putInt(NUMBER_OFFSET, number);
    }

    /**
     * Creates segment {@code number} of NIC {@code name}: a sealed memfd of this process, mapped
     * shared over fresh page-aligned memory of {@code bytes}, which the caller owns as any
     * {@link NativeBuffer} (closing it unmaps the memfd's pages), and the file that names it (it
     * goes, and the memfd is closed, with {@link #remove}).
     */
    static ShmSegment create(String name, int number, int bytes, ProcessIdentity self) {
        Path path = path(name, number);
        long mapped = NativeMemory.roundUpToPage(bytes);
        NativeBuffer memory = NativeMemory.allocate(bytes);
        int fd = -1;
        try {
            fd = SealedMemfd.create("unetmm-" + name + "@" + number, DATA_OFFSET + mapped);
            ByteBuffer head = header(self, bytes, fd, number);
            try (FileChannel file = SealedMemfd.channel(fd, true)) {
                file.write(head.duplicate(), 0);
            }
            long at = Libc.binding().mmap(memory.address(), mapped, Libc.PROT_READ | Libc.PROT_WRITE,
                    Libc.MAP_SHARED | MAP_FIXED, fd, DATA_OFFSET);
            if (at != memory.address()) {
                throw new ShmException("cannot map the shm segment " + path + " (" + mapped + " bytes): errno "
                        + Libc.lastErrno() + "; is memory short?");
            }
            Files.deleteIfExists(path); // a stale one of a dead process that held this name
            Files.createFile(path, PosixFilePermissions.asFileAttribute(ShmRegion.OWNER_ONLY));
            try (FileChannel file = FileChannel.open(path, StandardOpenOption.WRITE)) {
                file.write(head, 0);
            }
            return new ShmSegment(path, number, memory, fd);
        } catch (IOException e) {
            memory.close();
            SealedMemfd.close(fd);
            ShmDirectory.delete(path);
            throw new ShmException("cannot create the shm segment " + path + ": " + e + "; is /dev/shm a writable tmpfs?");
        } catch (RuntimeException e) {
            memory.close();
            SealedMemfd.close(fd);
            ShmDirectory.delete(path);
            throw e;
        }
    }

    /** Whether [address, address + length) lies inside this segment's bytes. */
    boolean holds(long start, int length) {
        return start >= address && length >= 0 && start - address <= bytes - (long) length;
    }

    /** The segment of {@code shared} holding [start, start + length), or null. */
    static ShmSegment holding(ShmSegment[] shared, long start, int length) {
        for (ShmSegment s : shared) {
            if (s.holds(start, length)) {
                return s;
            }
        }
        return null;
    }

    /** Removes the file and closes the memfd; the mappings stay valid until each process drops its own. */
    synchronized void remove() {
        ShmDirectory.delete(path);
        SealedMemfd.close(fd);
        fd = -1;
    }

    /**
     * Peer {@code peerName}'s segment {@code number}, mapped read-only here; null if there is none
     * that peer's process {@code peer} shared ({@code why[0]} then says which): no such file, not
     * this user's or not mode 0600, a header that is not a segment's or one another process wrote
     * ({@link ShmDropReason#UNKNOWN_SEGMENT}); or a memfd this process cannot open, not sealed
     * against shrinking, or whose header is not the file's ({@link ShmDropReason#SEGMENT_UNREACHABLE}).
     */
    static ByteBuffer mapPeer(String peerName, int number, ProcessIdentity peer, ShmDropReason[] why) {
        why[0] = ShmDropReason.UNKNOWN_SEGMENT;
        if (number <= 0 || number > MAX_NUMBER || peer.pid() <= 0) {
            return null;
        }
        Path path = path(peerName, number);
        ByteBuffer named = ByteBuffer.allocate(HEADER_LENGTH).order(ByteOrder.LITTLE_ENDIAN);
        try {
            ShmRegion.checkOwnership(path);
            try (FileChannel file = FileChannel.open(path, StandardOpenOption.READ)) {
                file.read(named, 0);
            }
        } catch (IOException | ShmException e) {
            return null; // gone (NoSuchFileException), unreadable, or not this user's 0600 file
        }
        int bytes = named.getInt(BYTES_OFFSET);
        int ownerFd = named.getInt(FD_OFFSET);
        if (named.position() != HEADER_LENGTH || named.getLong(MAGIC_OFFSET) != MAGIC || named.getInt(PID_OFFSET) != peer.pid()
                || named.getLong(START_TIME_OFFSET) != peer.startTime() || named.getInt(NUMBER_OFFSET) != number
                || bytes <= 0 || ownerFd < 0) {
            return null;
        }
        why[0] = ShmDropReason.SEGMENT_UNREACHABLE;
        try (FileChannel file = SealedMemfd.openPeer(peer.pid(), ownerFd, false)) {
            if (file == null) {
                return null;
            }
            ByteBuffer inside = ByteBuffer.allocate(HEADER_LENGTH).order(ByteOrder.LITTLE_ENDIAN);
            file.read(inside, 0);
            if (inside.position() != HEADER_LENGTH || !inside.flip().equals(named.flip())
                    || file.size() < DATA_OFFSET + (long) bytes) {
                return null; // the descriptor is not (any longer) this segment's memfd
            }
            why[0] = null;
            return file.map(FileChannel.MapMode.READ_ONLY, DATA_OFFSET, bytes).order(ByteOrder.LITTLE_ENDIAN);
        } catch (IOException e) {
            return null;
        }
    }

    /** The process that owns a segment file, or {@link ProcessIdentity#NONE} if it cannot be read or is not one. */
    static ProcessIdentity owner(Path path) {
        try (FileChannel file = FileChannel.open(path, StandardOpenOption.READ)) {
            ByteBuffer head = ByteBuffer.allocate(HEADER_LENGTH).order(ByteOrder.LITTLE_ENDIAN);
            file.read(head, 0);
            return head.position() == HEADER_LENGTH && head.getLong(MAGIC_OFFSET) == MAGIC
                    ? new ProcessIdentity(head.getInt(PID_OFFSET), head.getLong(START_TIME_OFFSET)) : ProcessIdentity.NONE;
        } catch (IOException e) {
            return ProcessIdentity.NONE;
        }
    }

    /** Removes the segment files of NIC {@code name} whose owning process is gone; returns how many went. */
    static int removeDead(String name) {
        int removed = 0;
        try (DirectoryStream<Path> files = Files.newDirectoryStream(ShmDirectory.ROOT, ShmDirectory.PREFIX + name + "@*" + SUFFIX)) {
            for (Path p : files) {
                removed += removeIfDead(p);
            }
        } catch (IOException e) {
            // /dev/shm unreadable: the stale check of the next open removes them
        }
        return removed;
    }

    /** Removes one segment file (of this user, mode 0600) if its owner's process is gone. */
    static int removeIfDead(Path p) {
        try {
            if (!ShmRegion.checkOwnershipIfPresent(p)) {
                return 0;
            }
        } catch (ShmException e) {
            return 0; // another user's, or not a unetmm file: not ours to remove
        }
        ProcessIdentity owner = owner(p);
        return owner.pid() > 0 && !owner.alive() ? ShmDirectory.delete(p) : 0;
    }
}
