// apache-md5 has no typings: it hashes a password with an $apr1$ or $1$ salt (a stored hash works as the salt).
declare module 'apache-md5' {
  function md5(password: string, salt?: string): string;
  export default md5;
}
