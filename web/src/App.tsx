import { Center, Loader } from "@mantine/core";
import { lazy, Suspense } from "react";
import { Navigate, Route, Routes } from "react-router";
import { Shell } from "./Shell";
import { useMe } from "./lib/session";
import { SignIn } from "./pages/SignIn";

// Pages are loaded on demand: the shell does not carry them.
const Home = lazy(() => import("./pages/Home"));
const Profiles = lazy(() => import("./pages/Profiles"));
const Profile = lazy(() => import("./pages/Profile"));
const AcceptInvitation = lazy(() => import("./pages/AcceptInvitation"));

function Loading() {
  return (
    <Center h="50vh">
      <Loader aria-label="Loading" />
    </Center>
  );
}

export function App() {
  const me = useMe();
  if (me.isPending) return <Loading />;
  return (
    <Suspense fallback={<Loading />}>
      <Routes>
        <Route path="/invitations/:token" element={<AcceptInvitation />} />
        {me.data ? (
          <Route element={<Shell me={me.data} />}>
            <Route index element={<Home />} />
            <Route path="profiles" element={<Profiles />} />
            <Route path="profiles/:id" element={<Profile />} />
            <Route path="*" element={<Navigate to="/" replace />} />
          </Route>
        ) : (
          <Route path="*" element={<SignIn />} />
        )}
      </Routes>
    </Suspense>
  );
}
