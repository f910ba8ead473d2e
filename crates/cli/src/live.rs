//! Inputs fed as they go: `match`, `lookup`, `extract` and `import` answer (or store) what a pipe
//! has given so far before they wait for more.

use std::fs::File;
use std::io;

/// An input fed as it goes (a pipe, a named pipe, a terminal: anything but a regular file), and
/// how to ask it whether more is ready: a sensor's pipe may stay quiet for minutes, and what was
/// read so far must be answered now, not when a buffer fills or the input ends.
pub(crate) struct Live {
    #[cfg(unix)]
    fd: Option<std::os::fd::OwnedFd>,
}

impl Live {
    /// A file read to its end.
    #[cfg(test)]
    pub(crate) const NOT: Live = Live {
        #[cfg(unix)]
        fd: None,
    };

    pub(crate) fn stdin() -> Live {
        Live::of(&io::stdin())
    }

    /// What `input` is: live unless it is a regular file. Its descriptor is duplicated, so the
    /// caller keeps reading `input` itself.
    #[cfg(unix)]
    pub(crate) fn of(input: &impl std::os::fd::AsFd) -> Live {
        let Ok(fd) = input.as_fd().try_clone_to_owned() else { return Live { fd: None } };
        let file = File::from(fd);
        let is_file = file.metadata().is_ok_and(|metadata| metadata.is_file());
        Live { fd: (!is_file).then(|| file.into()) }
    }

    #[cfg(not(unix))]
    pub(crate) fn of<T>(_input: &T) -> Live {
        Live {}
    }

    pub(crate) fn is_live(&self) -> bool {
        #[cfg(unix)]
        {
            self.fd.is_some()
        }
        #[cfg(not(unix))]
        false
    }

    /// Whether a read now would wait: a live input with nothing ready. (Bytes already buffered
    /// above the descriptor, by a reader or a decompressor, make this answer early; that only
    /// ships a smaller chunk.)
    pub(crate) fn would_wait(&self) -> bool {
        #[cfg(unix)]
        {
            use rustix::event::{PollFd, PollFlags, Timespec, poll};
            let Some(fd) = &self.fd else { return false };
            let mut fds = [PollFd::new(fd, PollFlags::IN)];
            let now = Timespec { tv_sec: 0, tv_nsec: 0 };
            poll(&mut fds, Some(&now)).is_ok_and(|ready| ready == 0)
        }
        #[cfg(not(unix))]
        false
    }
}
