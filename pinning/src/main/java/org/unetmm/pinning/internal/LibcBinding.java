package org.unetmm.pinning.internal;

import jnr.ffi.annotations.In;
import jnr.ffi.annotations.Out;
import jnr.ffi.annotations.SaveError;
import jnr.ffi.provider.jffi.NoX86;
import jnr.ffi.types.size_t;
import jnr.ffi.types.ssize_t;

/**
 * The raw JNR-FFI binding of libc. Only {@link Libc} may use it: every call
 * is wrapped there once, with errno turned into a typed exception. Addresses travel as
 * {@code long} (size_t), never as user-typed values.
 *
 * <p>{@code @NoX86}: jnr-ffi's x86-64 assembler stubs pass a sixth integer argument wrong
 * ({@code mmap}'s offset, {@code process_vm_readv}'s flags); with it this binding uses jffi's
 * generic invokers, and the rest of the JVM keeps the stubs (see {@link Libc}).
 */
@NoX86
public interface LibcBinding {
    @SaveError int mlock(@size_t long address, @size_t long length);

    @SaveError int munlock(@size_t long address, @size_t long length);

    @SaveError int madvise(@size_t long address, @size_t long length, int advice);

    @SaveError @size_t long mmap(@size_t long address, @size_t long length, int prot, int flags, int fd, @size_t long offset);

    @SaveError int munmap(@size_t long address, @size_t long length);

    @SaveError int mprotect(@size_t long address, @size_t long length, int prot);

    @SaveError int getrlimit(int resource, @Out long[] rlimit);

    @SaveError long sysconf(int name);

    /** iovecs are arrays of (base, length) pairs in native memory, laid out by the caller. */
    @SaveError @ssize_t long process_vm_readv(int pid, @size_t long localIov, @size_t long localCount,
                                              @size_t long remoteIov, @size_t long remoteCount, @size_t long flags);

    @SaveError @ssize_t long sendmsg(int fd, @size_t long msghdr, int flags);

    @SaveError @ssize_t long recvmsg(int fd, @size_t long msghdr, int flags);

    /** {@code msgvec} points to {@code vlen} struct mmsghdr laid out by the caller. */
    @SaveError int sendmmsg(int fd, @size_t long msgvec, int vlen, int flags);

    /** {@code msgvec} points to {@code vlen} struct mmsghdr; {@code timeout} a timespec or 0 (none). */
    @SaveError int recvmmsg(int fd, @size_t long msgvec, int vlen, int flags, @size_t long timeout);

    @SaveError int getpid();

    /** open(2) without a mode (no O_CREAT): the shm wire maps a segment file it created over its segment's pages. */
    @SaveError int open(String path, int flags);

    /** memfd_create(2): the shm wire's fixed segments, sealed against shrinking (MFD_ALLOW_SEALING). */
    @SaveError int memfd_create(String name, int flags);

    @SaveError int ftruncate(int fd, @size_t long length);

    /** fcntl(2) with an int argument (the shm wire's F_ADD_SEALS and F_GET_SEALS). */
    @SaveError int fcntl(int fd, int command, int argument);

    /** prctl(2) with its four unsigned long arguments (the shm wire's PR_SET_PTRACER). */
    @SaveError int prctl(int option, @size_t long arg2, @size_t long arg3, @size_t long arg4, @size_t long arg5);

    @SaveError int socket(int domain, int type, int protocol);

    @SaveError int bind(int fd, @In byte[] address, int addressLength);

    @SaveError int setsockopt(int fd, int level, int option, @In int[] value, int valueLength);

    @SaveError int close(int fd);

    // ---- udp wire (nic-backend): structs laid out in native memory by the caller -------------

    /** {@code address} points to a sockaddr buffer, {@code addressLength} to its socklen_t (in/out). */
    @SaveError int getsockname(int fd, @size_t long address, @size_t long addressLength);

    @SaveError int getsockopt(int fd, int level, int option, @Out int[] value, @In @Out int[] valueLength);

    /** {@code fds} points to pollfd structs, {@code timeout} to a timespec (0 = wait forever), {@code sigmask} may be 0. */
    @SaveError int ppoll(@size_t long fds, @size_t long count, @size_t long timeout, @size_t long sigmask);

    /** recv(2) into native memory: no msghdr to import, the cheapest way to poll or take a whole datagram. */
    @SaveError @ssize_t long recv(int fd, @size_t long buffer, @size_t long length, int flags);
}
